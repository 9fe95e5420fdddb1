/*
 * vgpu-dm-bench: runs one benchmark case of nvidia-vgpu-dm against a vgpu-sim
 * mount and prints one row of the table that bench/run assembles.
 *
 *   vgpu-dm-bench header
 *   vgpu-dm-bench case --root DIR --name NAME --min-writes N [--runs N]
 *                      [--warmup N] [--expect-rc N]
 *                      [--setup SHCMD | --setup-once SHCMD] [--verify SHCMD]
 *                      [--log FILE] [--verbose] -- PROGRAM [ARG]...
 *   vgpu-dm-bench floor [--runs N] [--log FILE] -- PROGRAM [ARG]...
 *
 * "case" does --warmup runs (default 1; checked, then forgotten: on a VM the
 * first runs after a pause are often several times slower), then --runs
 * runs (default 7). Each run: run the --setup SHCMD (/bin/sh -c, not
 * measured), zero the simulator's counters, fork/exec PROGRAM directly (no
 * shell) with VGPU_DM_SYSFS_ROOT=DIR, time it with CLOCK_MONOTONIC from fork
 * to wait4, take its peak RSS from wait4's rusage, read the counters, then
 * run the --verify SHCMD (not measured). With --setup-once, for commands
 * that must leave the host as they found it, the set-up runs only before
 * the first run and the verify only after the last one. PROGRAM must exit
 * with --expect-rc (0 by default), every shell command with 0. The row
 * shows the median wall time, the largest peak RSS, and the counters of the
 * median run; a counter that was not the same in every run gets a '*'.
 * --verbose prints every run's time, RSS and counters on stderr.
 *
 * "floor" prints the largest peak RSS of PROGRAM (e.g. /bin/true): the part
 * of every RSS figure that is only fork/exec and the C runtime.
 *
 * Exit status: 0 on success, 1 on any failure (message on stderr), 2 on
 * bad usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 101

enum ctr {
	C_LOOKUP, C_GETATTR, C_OPEN, C_READ, C_WRITE, C_READDIR, C_READLINK,
	C_CREATE_OK, C_CREATE_FAIL, C_REMOVE_OK, C_REMOVE_FAIL, C_COUNT
};

static const char *const ctr_names[C_COUNT] = {
	"lookup", "getattr", "open", "read", "write", "readdir", "readlink",
	"create_ok", "create_fail", "remove_ok", "remove_fail",
};

/* Table columns shown for the counters, in order. */
static const enum ctr shown[] = {
	C_LOOKUP, C_GETATTR, C_OPEN, C_READ, C_WRITE, C_READDIR, C_READLINK,
	C_CREATE_OK, C_REMOVE_OK,
};
static const char *const shown_titles[] = {
	"lookup", "getattr", "open", "read", "write", "readdir", "readlink",
	"creates", "removes",
};
#define N_SHOWN (sizeof shown / sizeof shown[0])

/* Column widths; the header and the rows share them. */
enum { W_NAME = 22, W_MS = 10, W_RSS = 13, W_CTR = 9, W_MIN = 11 };

struct run {
	double ms;
	long maxrss_kib;
	unsigned long long ctr[C_COUNT];
};

static const char *log_path = "/dev/null";

/* The command running now, killed with us on SIGTERM/SIGINT/SIGHUP. */
static volatile sig_atomic_t child_pid;

static void on_signal(int sig)
{
	pid_t pid = (pid_t)child_pid;
	if (pid > 0)
		kill(pid, SIGTERM);
	_exit(128 + sig);
}

static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	struct sigaction old;
	/* SIGINT only if it is not ignored (a background job of a script). */
	if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
		sigaction(SIGINT, &sa, NULL);
}

static void print_header(void)
{
	printf("%-*s%*s%*s", W_NAME, "case", W_MS, "median ms", W_RSS, "peak RSS KiB");
	for (size_t i = 0; i < N_SHOWN; i++)
		printf("%*s", W_CTR, shown_titles[i]);
	printf("%*s\n", W_MIN, "min writes");
}

/* Print the log of the last command to stderr, to show why it failed. */
static void dump_log(void)
{
	if (strcmp(log_path, "/dev/null") == 0)
		return;
	FILE *f = fopen(log_path, "r");
	if (!f)
		return;
	char buf[4096];
	size_t n, total = 0;
	fprintf(stderr, "--- output (%s) ---\n", log_path);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0 && total < 64 * 1024) {
		fwrite(buf, 1, n, stderr);
		total += n;
	}
	fprintf(stderr, "--- end of output ---\n");
	fclose(f);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * Fork and exec argv[0] with stdin from /dev/null and stdout+stderr to the
 * log (truncated). Returns the wait status, or -1 if it could not be run.
 */
static int spawn(char *const argv[], double *ms, struct rusage *ru)
{
	int logfd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0) {
		fprintf(stderr, "vgpu-dm-bench: %s: %s\n", log_path, strerror(errno));
		return -1;
	}
	fflush(NULL);
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "vgpu-dm-bench: fork: %s\n", strerror(errno));
		close(logfd);
		return -1;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
			_exit(126);
		execvp(argv[0], argv);
		dprintf(2, "vgpu-dm-bench: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(logfd);
	child_pid = pid;
	int status;
	struct rusage r;
	pid_t w;
	while ((w = wait4(pid, &status, 0, &r)) < 0 && errno == EINTR)
		;
	double t1 = now_ms();
	child_pid = 0;
	if (w < 0) {
		fprintf(stderr, "vgpu-dm-bench: wait4: %s\n", strerror(errno));
		return -1;
	}
	if (ms)
		*ms = t1 - t0;
	if (ru)
		*ru = r;
	return status;
}

static void describe_status(char *buf, size_t len, int status)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "wait status 0x%x", (unsigned)status);
}

/* Run a not-measured shell command; it must exit 0. */
static int run_shell(const char *what, const char *cmd, const char *run)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	int st = spawn(argv, NULL, NULL);
	if (st < 0)
		return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char d[64];
		describe_status(d, sizeof d, st);
		fprintf(stderr, "vgpu-dm-bench: %s: %s command failed (%s): %s\n",
			run, what, d, cmd);
		dump_log();
		return -1;
	}
	return 0;
}

static int counters_path(char *buf, size_t len, const char *root)
{
	int n = snprintf(buf, len, "%s/.vgpu-sim/counters", root);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

static int reset_counters(const char *root)
{
	char p[4096];
	if (counters_path(p, sizeof p, root) < 0)
		return -1;
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vgpu-dm-bench: %s: %s\n", p, strerror(errno));
		return -1;
	}
	ssize_t n = write(fd, "reset\n", 6);
	int err = errno;
	close(fd);
	if (n != 6) {
		fprintf(stderr, "vgpu-dm-bench: reset %s: %s\n", p,
			n < 0 ? strerror(err) : "short write");
		return -1;
	}
	return 0;
}

static int read_counters(const char *root, unsigned long long ctr[C_COUNT])
{
	char p[4096];
	if (counters_path(p, sizeof p, root) < 0)
		return -1;
	FILE *f = fopen(p, "r");
	if (!f) {
		fprintf(stderr, "vgpu-dm-bench: %s: %s\n", p, strerror(errno));
		return -1;
	}
	int seen[C_COUNT] = { 0 };
	char name[64];
	unsigned long long v;
	int rc = 0;
	while ((rc = fscanf(f, "%63s %llu", name, &v)) == 2) {
		for (int i = 0; i < C_COUNT; i++)
			if (strcmp(name, ctr_names[i]) == 0) {
				ctr[i] = v;
				seen[i] = 1;
			}
	}
	fclose(f);
	if (rc != EOF) {
		fprintf(stderr, "vgpu-dm-bench: %s: unexpected format\n", p);
		return -1;
	}
	for (int i = 0; i < C_COUNT; i++)
		if (!seen[i]) {
			fprintf(stderr, "vgpu-dm-bench: %s: no counter '%s'\n", p, ctr_names[i]);
			return -1;
		}
	return 0;
}

static int parse_num(const char *s, long lo, long hi, const char *opt, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "vgpu-dm-bench: %s: expected a number from %ld to %ld, got '%s'\n",
			opt, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vgpu-dm-bench header\n"
		"       vgpu-dm-bench case --root DIR --name NAME --min-writes N [--runs N]\n"
		"                     [--warmup N] [--expect-rc N]\n"
		"                     [--setup SHCMD | --setup-once SHCMD] [--verify SHCMD]\n"
		"                     [--log FILE] [--verbose] -- PROGRAM [ARG]...\n"
		"       vgpu-dm-bench floor [--runs N] [--log FILE] -- PROGRAM [ARG]...\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage();
		return 2;
	}
	const char *mode = argv[1];
	if (strcmp(mode, "header") == 0 && argc == 2) {
		print_header();
		return 0;
	}
	if (strcmp(mode, "case") != 0 && strcmp(mode, "floor") != 0) {
		usage();
		return 2;
	}
	int is_case = strcmp(mode, "case") == 0;
	catch_signals();

	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'n' },
		{ "runs", required_argument, NULL, 'N' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "min-writes", required_argument, NULL, 'm' },
		{ "expect-rc", required_argument, NULL, 'e' },
		{ "setup", required_argument, NULL, 's' },
		{ "setup-once", required_argument, NULL, 'o' },
		{ "verify", required_argument, NULL, 'v' },
		{ "log", required_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *root = NULL, *name = NULL, *setup = NULL, *verify = NULL;
	long runs = 7, warmup = 1, min_writes = -1, expect_rc = 0;
	int c, verbose = 0, setup_once = 0;
	optind = 2;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'r': root = optarg; break;
		case 'n': name = optarg; break;
		case 's': setup = optarg; setup_once = 0; break;
		case 'o': setup = optarg; setup_once = 1; break;
		case 'v': verify = optarg; break;
		case 'l': log_path = optarg; break;
		case 'V': verbose = 1; break;
		case 'N':
			if (parse_num(optarg, 1, MAX_RUNS, "--runs", &runs) < 0)
				return 2;
			break;
		case 'w':
			if (parse_num(optarg, 0, MAX_RUNS, "--warmup", &warmup) < 0)
				return 2;
			break;
		case 'm':
			if (parse_num(optarg, 0, 1000000, "--min-writes", &min_writes) < 0)
				return 2;
			break;
		case 'e':
			if (parse_num(optarg, 0, 255, "--expect-rc", &expect_rc) < 0)
				return 2;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind >= argc || (is_case && (!root || !name || min_writes < 0))) {
		usage();
		return 2;
	}
	char **prog = argv + optind;

	if (!is_case) {
		long peak = 0;
		for (long i = 0; i < runs; i++) {
			struct rusage ru;
			int st = spawn(prog, NULL, &ru);
			if (st < 0)
				return 1;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				fprintf(stderr, "vgpu-dm-bench: %s failed\n", prog[0]);
				dump_log();
				return 1;
			}
			if (ru.ru_maxrss > peak)
				peak = ru.ru_maxrss;
		}
		printf("%ld\n", peak);
		return 0;
	}

	if (setenv("VGPU_DM_SYSFS_ROOT", root, 1) < 0) {
		perror("vgpu-dm-bench: setenv");
		return 1;
	}

	static struct run r[MAX_RUNS];
	for (long j = 0; j < warmup + runs; j++) {
		/* Warm-up runs are checked like the others, then forgotten. */
		struct run scratch, *cur = j < warmup ? &scratch : &r[j - warmup];
		char label[64];
		if (j < warmup)
			snprintf(label, sizeof label, "%s: warm-up %ld", name, j + 1);
		else
			snprintf(label, sizeof label, "%s: run %ld", name, j - warmup + 1);
		if (setup && (!setup_once || j == 0) && run_shell("set-up", setup, label) < 0)
			return 1;
		if (reset_counters(root) < 0)
			return 1;
		struct rusage ru;
		int st = spawn(prog, &cur->ms, &ru);
		if (st < 0)
			return 1;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != expect_rc) {
			char d[64];
			describe_status(d, sizeof d, st);
			fprintf(stderr, "vgpu-dm-bench: %s: %s, expected exit %ld\n",
				label, d, expect_rc);
			dump_log();
			return 1;
		}
		cur->maxrss_kib = ru.ru_maxrss; /* Linux: KiB */
		if (read_counters(root, cur->ctr) < 0)
			return 1;
		if (cur->ctr[C_CREATE_FAIL] || cur->ctr[C_REMOVE_FAIL]) {
			fprintf(stderr, "vgpu-dm-bench: %s: %llu failed create and %llu "
				"failed remove writes; none were expected\n", label,
				cur->ctr[C_CREATE_FAIL], cur->ctr[C_REMOVE_FAIL]);
			dump_log();
			return 1;
		}
		if (verbose) {
			fprintf(stderr, "  %s: %.1f ms, %ld KiB,", label, cur->ms, cur->maxrss_kib);
			for (int k = 0; k < C_COUNT; k++)
				fprintf(stderr, " %s %llu", ctr_names[k], cur->ctr[k]);
			fputc('\n', stderr);
		}
		if (verify && (!setup_once || j == warmup + runs - 1) &&
		    run_shell("verify", verify, label) < 0)
			return 1;
	}

	/* The median run: the lower middle one by time, so it is a real run. */
	double times[MAX_RUNS];
	for (long i = 0; i < runs; i++)
		times[i] = r[i].ms;
	qsort(times, (size_t)runs, sizeof times[0], cmp_double);
	double median = times[(runs - 1) / 2];
	long mi = 0;
	for (long i = 0; i < runs; i++)
		if (r[i].ms == median) {
			mi = i;
			break;
		}
	long peak = 0;
	for (long i = 0; i < runs; i++)
		if (r[i].maxrss_kib > peak)
			peak = r[i].maxrss_kib;

	printf("%-*s%*.1f%*ld", W_NAME, name, W_MS, median, W_RSS, peak);
	for (size_t k = 0; k < N_SHOWN; k++) {
		enum ctr id = shown[k];
		int same = 1;
		for (long i = 0; i < runs; i++)
			if (r[i].ctr[id] != r[mi].ctr[id])
				same = 0;
		char cell[32];
		snprintf(cell, sizeof cell, "%llu%s", r[mi].ctr[id], same ? "" : "*");
		printf("%*s", W_CTR, cell);
	}
	printf("%*ld\n", W_MIN, min_writes);
	return fflush(stdout) == 0 ? 0 : 1;
}
