/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCI identities used as device filters: "0xDDDDVVVV" (device then vendor),
 * optionally followed by ":0xSSSSssss" (subsystem device then subsystem
 * vendor). Hex digits may be upper or lower case.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vocab.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse exactly "0x" + 8 hex digits from s[0..len). */
static bool parse_pair(const char *s, size_t len, uint16_t *hi, uint16_t *lo)
{
	uint32_t v = 0;

	if (len != 10 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return false;
	for (size_t i = 2; i < len; i++) {
		int h = hexval(s[i]);

		if (h < 0)
			return false;
		v = (v << 4) | (uint32_t)h;
	}
	*hi = (uint16_t)(v >> 16);
	*lo = (uint16_t)(v & 0xFFFF);
	return true;
}

int vdm_devid_parse(const char *s, struct vdm_devid *out, const char **why)
{
	struct vdm_devid id = { 0 };
	const char *colon;
	const char *dummy;
	size_t len;

	if (!why)
		why = &dummy;
	if (!s || !*s) {
		*why = "empty device ID";
		return -EINVAL;
	}
	len = strlen(s);
	colon = strchr(s, ':');
	if (colon && strchr(colon + 1, ':')) {
		*why = "expected <device-vendor> or <device-vendor>:<subsystem>, found more than one ':'";
		return -EINVAL;
	}
	if (!parse_pair(s, colon ? (size_t)(colon - s) : len, &id.device, &id.vendor)) {
		*why = "expected 0x and 8 hex digits (device then vendor ID), e.g. 0x1EB810DE";
		return -EINVAL;
	}
	if (colon) {
		if (!parse_pair(colon + 1, len - (size_t)(colon + 1 - s), &id.subsys_device,
				&id.subsys_vendor)) {
			*why = "subsystem must be 0x and 8 hex digits (subsystem device then vendor ID), e.g. 0x12A210DE";
			return -EINVAL;
		}
		id.has_subsys = true;
	}
	if (out)
		*out = id;
	return 0;
}

bool vdm_devid_matches(const struct vdm_devid *filter, const struct vdm_devid *hw)
{
	if (filter->device != hw->device || filter->vendor != hw->vendor)
		return false;
	if (filter->has_subsys && (filter->subsys_device != hw->subsys_device ||
				   filter->subsys_vendor != hw->subsys_vendor))
		return false;
	return true;
}

void vdm_devid_format(const struct vdm_devid *id, char *buf, size_t len)
{
	if (!buf || len == 0)
		return;
	if (id->has_subsys)
		snprintf(buf, len, "0x%04X%04X:0x%04X%04X", id->device, id->vendor,
			 id->subsys_device, id->subsys_vendor);
	else
		snprintf(buf, len, "0x%04X%04X", id->device, id->vendor);
}
