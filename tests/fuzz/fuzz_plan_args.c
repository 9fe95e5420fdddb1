/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `nvidia-vgpu-dm plan ARGS...` as a user types it: the input is the
 * arguments, one a line. cli/main.c is built in with its main renamed; the
 * host root is a directory that does not exist (never the real /sys), and
 * the printed config goes to /dev/null.
 */
#include <fcntl.h>
#include <stdbool.h>

#include "fuzz.h"

int vdm_cli_main(int argc, char **argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	int fd = open("/dev/null", O_WRONLY);
	if (fd >= 0) {
		dup2(fd, 1);
		close(fd);
	}
	unsetenv("VGPU_DM_SYSFS_ROOT");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init)
		init = !LLVMFuzzerInitialize(NULL, NULL);
	if (size > 512)
		return 0;
	char *s = fuzz_str(data, size);
	char *argv[72] = {"nvidia-vgpu-dm", "--sysfs-root", "/nonexistent-fuzz-root", "plan"};
	int argc = 4;
	for (char *p = s, *nl; p && argc < 71; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		argv[argc++] = p;
	}
	argv[argc] = NULL;
	int rc = vdm_cli_main(argc, argv);
	if (rc < 0 || rc > 5) /* an exit status cli.h does not define */
		abort();
	free(s);
	fflush(stdout);
	return 0;
}
