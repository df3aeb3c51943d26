/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crc32c (Castagnoli) in user space, table driven: what the tests and the
 * demo check opbpf_crc.bpf.c against, and the table that program uses.
 */
#ifndef IOU_CRC32C_H
#define IOU_CRC32C_H

#include <stddef.h>
#include <stdint.h>

static uint32_t crc_table[256];

static void crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32c(const unsigned char *p, size_t len)
{
	uint32_t crc = 0xffffffff;

	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#endif
