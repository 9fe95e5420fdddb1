/* SPDX-License-Identifier: Apache-2.0 */
#include <time.h>

#include "cli.h"

long cli_elapsed_secs(const struct timespec *start, const struct timespec *now)
{
	long long ns = (long long)(now->tv_sec - start->tv_sec) * 1000000000LL +
		       (now->tv_nsec - start->tv_nsec);
	return ns < 0 ? 0 : (long)(ns / 1000000000LL);
}
