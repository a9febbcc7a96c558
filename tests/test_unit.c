/*
 * test_unit.c — conf/upcased.service as systemd judges it, without a
 * running systemd: systemd-analyze security --offline on the unit with
 * its paths filled in, as make install and the package do, must rate it
 * 2.0 or less (OK).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TestSuite(unit, .timeout = 30);

#define EXPOSURE_MAX	2.0	/* "OK" in systemd-analyze's words */

Test(unit, the_service_is_rated_ok_by_systemd_analyze_security)
{
	char dir[] = "/tmp/upcased-unit-XXXXXX", cmd[512], line[512];
	double exposure = -1;
	FILE *f;
	int rc;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "sed -e 's|@SBINDIR@|/usr/sbin|g' "
	    "-e 's|@SYSCONFDIR@|/etc/upcased|g' conf/upcased.service "
	    "> %s/upcased.service", dir);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	snprintf(cmd, sizeof(cmd), "systemd-analyze security --offline=yes "
	    "--no-pager %s/upcased.service 2>&1", dir);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *p = strstr(line, "Overall exposure level for "
		    "upcased.service: ");

		if (p != NULL)
			exposure = strtod(strchr(p, ':') + 1, NULL);
	}
	rc = pclose(f);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(rc, 0, "systemd-analyze security failed (%d)", rc);
	cr_assert_geq(exposure, 0, "no overall exposure level printed");
	cr_assert_leq(exposure, EXPOSURE_MAX, "exposure %.1f, above %.1f",
	    exposure, EXPOSURE_MAX);
}
