/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's node watch events and LIST answers (agent/watch.c), as the
 * API server would send them. First byte even: the rest is a watch stream,
 * one event a line; odd: the rest is a LIST answer.
 */
#include "agent.h"
#include "fuzz.h"

static struct agent a;

/* Every message is formatted and read, none printed. */
static void sink(struct vdm_ctx *ctx, int prio, const char *msg, void *ud)
{
	(void)ctx, (void)prio;
	*(size_t *)ud += strlen(msg);
}
static size_t logged;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	vdm_ctx_new(&a.ctx, "/nonexistent-fuzz-root");
	vdm_ctx_set_log(a.ctx, VDM_LOG_DEBUG, sink, &logged);
	a.o.node_name = "node1";
	a.sigfd = -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!a.ctx)
		LLVMFuzzerInitialize(NULL, NULL);
	if (size < 1)
		return 0;
	struct watch_pos w = {0};
	char *s = fuzz_str(data + 1, size - 1);
	if (data[0] % 2 == 0) {
		char *line = s, *nl;
		do {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			size_t n = strlen(line);
			if (n && watch_event(&a, &w, line, n))
				break;
			line = nl + 1;
		} while (nl);
	} else {
		struct json_object *o = json_tokener_parse(s);
		watch_list(&a, &w, o);
		json_object_put(o);
	}
	if (a.label && !*a.label)
		abort(); /* an empty label is "absent" */
	free(s);
	watch_pos_free(&w);
	free(a.label);
	free(a.node_uid);
	a.label = a.node_uid = NULL;
	a.synced = a.dirty = false;
	node_cache(&a, NULL);
	return 0;
}
