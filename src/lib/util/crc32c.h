/*
 * CRC-32C (Castagnoli, the polynomial of iSCSI, ext4 and SSE 4.2): the check of
 * every line of a file-mode log. On x86-64 processors with SSE 4.2 it runs on
 * the crc32 instruction (about 8 bytes per cycle), elsewhere from a table; both
 * give the same value. Thread-safe.
 */
#ifndef SS_UTIL_CRC32C_H
#define SS_UTIL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32C of len bytes (initial value and final xor 0xffffffff, reflected:
 * "123456789" gives 0xe3069283). */
uint32_t ss__crc32c(const void *data, size_t len);

/* The CRC-32C of bytes A followed by data, given crc, the CRC-32C of A: a CRC
 * of pieces that are not contiguous. ss__crc32c_extend(0, d, n) is
 * ss__crc32c(d, n). */
uint32_t ss__crc32c_extend(uint32_t crc, const void *data, size_t len);

/* The same from the table only, for tests that compare the two paths. */
uint32_t ss__crc32c_portable(const void *data, size_t len);

#endif
