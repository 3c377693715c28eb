/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A fake CXL region in a fake sysfs tree (fake-sysfs.h). */
#ifndef UDAX_TEST_FAKE_CXL_H
#define UDAX_TEST_FAKE_CXL_H

#include "fake-sysfs.h"

/*
 * A 2-way, 256 B region of 64 MiB at 0x4000000000 over mem0 (decoder3.0,
 * DPA 0) and mem1 (decoder4.0, DPA 16 MiB), as Linux 6.5 shows it.
 */
__attribute__((unused)) static void cxl_fake_region(void)
{
	static const char *const dec[2][3] = {
		{ "decoder3.0", "endpoint3", "mem0" },
		{ "decoder4.0", "endpoint4", "mem1" },
	};
	const char *root = "/sys/devices/platform/ACPI0017:00/root0";
	char d[512];
	int i;

	snprintf(d, sizeof(d), "%s/decoder0.0/region0", root);
	fk_link(d, "/sys/bus/cxl/devices/region0");
	fk_file("0x4000000000\n", "%s/resource", d);
	fk_file("0x4000000\n", "%s/size", d);
	fk_file("2\n", "%s/interleave_ways", d);
	fk_file("256\n", "%s/interleave_granularity", d);
	for (i = 0; i < 2; i++) {
		char ep[512], mem[512];

		snprintf(ep, sizeof(ep), "%s/port1/%s", root, dec[i][1]);
		snprintf(mem, sizeof(mem), "/sys/devices/pci0000:0c/0000:0c:00.0/0000:0%c:00.0/%s",
			 'd' + i, dec[i][2]);
		fk_file(dec[i][0], "%s/target%d", d, i);
		fk_link(mem, "%s/uport", ep);
		fk_dir("%s", mem);
		fk_file("", "%s/trigger_poison_list", mem);
		fk_link(mem, "/sys/bus/cxl/devices/%s", dec[i][2]);
		snprintf(ep + strlen(ep), sizeof(ep) - strlen(ep), "/%s", dec[i][0]);
		fk_link(ep, "/sys/bus/cxl/devices/%s", dec[i][0]);
		fk_file(i ? "0x1000000\n" : "0x0\n", "%s/dpa_resource", ep);
		fk_file("0x0000000002000000\n", "%s/dpa_size", ep);
	}
}

#endif /* UDAX_TEST_FAKE_CXL_H */
