/* SPDX-License-Identifier: Apache-2.0 */
/* The CLI's log timestamp: whole seconds elapsed, not changes of the
 * second (a 0.29 s run that starts at x.9 s still prints [0000]). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "cli.h"

static void elapsed(void **state)
{
	(void)state;
	struct timespec start = {5, 900000000}, now = {6, 190000000};
	assert_int_equal(cli_elapsed_secs(&start, &now), 0);
	now = (struct timespec){6, 899999999};
	assert_int_equal(cli_elapsed_secs(&start, &now), 0);
	now = (struct timespec){6, 900000000};
	assert_int_equal(cli_elapsed_secs(&start, &now), 1);
	now = (struct timespec){17, 100000000};
	assert_int_equal(cli_elapsed_secs(&start, &now), 11);
	now = start;
	assert_int_equal(cli_elapsed_secs(&start, &now), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(elapsed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
