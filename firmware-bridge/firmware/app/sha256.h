/* SHA-256 (FIPS 180-4), small: one 64-byte block buffer, a 16-word
 * rolling message schedule, the round constants in flash. */
#ifndef CHERGA_SHA256_H
#define CHERGA_SHA256_H
#include <stdint.h>

typedef struct {
	uint32_t h[8];
	uint32_t bytes;
	uint8_t buf[64];
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_byte(sha256_ctx *c, uint8_t b);
void sha256_final(sha256_ctx *c, uint8_t out[32]);
#endif
