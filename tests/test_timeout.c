/*
 * test_timeout.c — the activity-ordered list: touching moves to the tail,
 * expiry comes from the head in deadline order, a disabled list never
 * expires.
 */
#include <criterion/criterion.h>
#include <stdint.h>

#include "timeout.h"

Test(timeout, expires_in_order_of_last_activity)
{
	struct timeout_list list;
	struct timeout_link a = { 0 }, b = { 0 }, c = { 0 };

	timeout_init(&list, 100);
	cr_assert_eq(timeout_next(&list), UINT64_MAX);
	timeout_touch(&list, &a, 1000);
	timeout_touch(&list, &b, 1010);
	timeout_touch(&list, &c, 1020);
	timeout_touch(&list, &a, 1050);		/* a is now the newest */
	cr_assert_eq(timeout_next(&list), 1110);
	cr_assert_null(timeout_expired(&list, 1109));
	cr_assert_eq(timeout_expired(&list, 1110), &b);
	timeout_remove(&b);
	cr_assert_eq(timeout_expired(&list, 1200), &c);
	timeout_remove(&c);
	cr_assert_null(timeout_expired(&list, 1149));
	cr_assert_eq(timeout_expired(&list, 1150), &a);
	timeout_remove(&a);
	cr_assert_null(timeout_expired(&list, UINT64_MAX - 1));
	cr_assert_eq(timeout_next(&list), UINT64_MAX);
}

Test(timeout, moving_between_lists)
{
	struct timeout_list idle, drain;
	struct timeout_link a = { 0 }, b = { 0 };

	timeout_init(&idle, 1000);
	timeout_init(&drain, 10);
	timeout_touch(&idle, &a, 0);
	timeout_touch(&idle, &b, 5);
	timeout_remove(&a);
	timeout_touch(&drain, &a, 6);
	cr_assert_eq(timeout_next(&idle), 1005);
	cr_assert_eq(timeout_next(&drain), 16);
	cr_assert_eq(timeout_expired(&drain, 16), &a);
	cr_assert_null(timeout_expired(&idle, 16));
}

Test(timeout, zero_disables_expiry)
{
	struct timeout_list list;
	struct timeout_link a = { 0 };

	timeout_init(&list, 0);
	timeout_touch(&list, &a, 0);
	cr_assert_null(timeout_expired(&list, UINT64_MAX));
	cr_assert_eq(timeout_next(&list), UINT64_MAX);
	timeout_remove(&a);
	timeout_remove(&a);	/* twice is harmless */
}
