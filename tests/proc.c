/*
 * proc.c — a process's open descriptors, resident memory and CPU time, from
 * /proc.
 */
#include "proc.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
fd_count(pid_t pid)
{
	char path[64];
	DIR *dp;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dp = opendir(path);
	if (dp == NULL)
		return -1;
	while ((e = readdir(dp)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(dp);
	return n;
}

long
rss_kib(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	long kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

long
cpu_ms(pid_t pid)
{
	char path[64], line[1024], *p;
	unsigned long utime, stime;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	/* The command name may hold spaces: fields count from its ')'. */
	if (p == NULL || (p = strrchr(line, ')')) == NULL)
		return -1;
	n = sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &utime, &stime);
	if (n != 2)
		return -1;
	return (long)((utime + stime) * 1000 /
	    (unsigned long)sysconf(_SC_CLK_TCK));
}

long
status_field(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t n = strlen(field);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			v = atol(line + n + 1);
	fclose(f);
	return v;
}

int
proc_children(pid_t pid, pid_t *out, int max)
{
	char path[64], text[4096];
	size_t len;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
	    (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	for (char *at = text, *end; n < max; at = end) {
		long child = strtol(at, &end, 10);

		if (end == at)
			break;
		out[n++] = (pid_t)child;
	}
	return n;
}
