#include "sha256.h"
#ifdef __AVR__
#include <avr/pgmspace.h>
#define K(i) pgm_read_dword(&k[i])
#else
#define PROGMEM
#define K(i) k[i]
#endif

static const uint32_t k[64] PROGMEM = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* 32-bit rotate right by a constant: whole bytes by moves, the rest by
 * at most four one-bit rotates (left ones when that is shorter). On the
 * AVR a one-bit rotate is six instructions of inline assembly. */
#ifdef __AVR__
static inline uint32_t ror1(uint32_t x)
{
	__asm__("bst %A0, 0\n\tror %D0\n\tror %C0\n\tror %B0\n\tror %A0\n\tbld %D0, 7" : "+r"(x));
	return x;
}

static inline uint32_t rol1(uint32_t x)
{
	__asm__("bst %D0, 7\n\trol %A0\n\trol %B0\n\trol %C0\n\trol %D0\n\tbld %A0, 0" : "+r"(x));
	return x;
}
#else
static inline uint32_t ror1(uint32_t x) { return x >> 1 | x << 31; }
static inline uint32_t rol1(uint32_t x) { return x << 1 | x >> 31; }
#endif

static inline __attribute__((always_inline)) uint32_t ror(uint32_t x, uint8_t n)
{
	uint8_t bits = n & 7, bytes = n >> 3;
	if (bits > 4)
		bytes++;
	if (bytes & 1)
		x = x >> 8 | x << 24;
	if (bytes & 2)
		x = x >> 16 | x << 16;
	if (bits > 4)
		for (uint8_t i = bits; i < 8; i++)
			x = rol1(x);
	else
		for (uint8_t i = 0; i < bits; i++)
			x = ror1(x);
	return x;
}

static __attribute__((noinline)) void block(sha256_ctx *c)
{
	uint32_t w[16], v[8];
	for (uint8_t i = 0; i < 16; i++)
		w[i] = (uint32_t)c->buf[4 * i] << 24 | (uint32_t)c->buf[4 * i + 1] << 16 |
			(uint32_t)c->buf[4 * i + 2] << 8 | c->buf[4 * i + 3];
	for (uint8_t i = 0; i < 8; i++)
		v[i] = c->h[i];
	for (uint8_t i = 0; i < 64; i++) {
		uint32_t wi;
		if (i < 16) {
			wi = w[i];
		} else {
			uint32_t a = w[(i + 1) & 15], b = w[(i + 14) & 15];
			uint32_t s0 = ror(a, 7) ^ ror(a, 18) ^ (a >> 3);
			uint32_t s1 = ror(b, 17) ^ ror(b, 19) ^ (b >> 10);
			wi = w[i & 15] += s0 + w[(i + 9) & 15] + s1;
		}
		uint32_t e = v[4];
		uint32_t t1 = v[7] + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +
			((e & v[5]) ^ (~e & v[6])) + K(i) + wi;
		uint32_t a = v[0];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) +
			((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));
		for (uint8_t j = 7; j > 0; j--)
			v[j] = v[j - 1];
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (uint8_t i = 0; i < 8; i++)
		c->h[i] += v[i];
}

void sha256_init(sha256_ctx *c)
{
	static const uint32_t h0[8] PROGMEM = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};
	for (uint8_t i = 0; i < 8; i++)
#ifdef __AVR__
		c->h[i] = pgm_read_dword(&h0[i]);
#else
		c->h[i] = h0[i];
#endif
	c->bytes = 0;
}

void sha256_byte(sha256_ctx *c, uint8_t b)
{
	c->buf[c->bytes++ & 63] = b;
	if (!(c->bytes & 63))
		block(c);
}

void sha256_final(sha256_ctx *c, uint8_t out[32])
{
	uint32_t bits = c->bytes << 3;
	uint8_t hi = c->bytes >> 29;
	sha256_byte(c, 0x80);
	while ((c->bytes & 63) != 56)
		sha256_byte(c, 0);
	sha256_byte(c, 0);
	sha256_byte(c, 0);
	sha256_byte(c, 0);
	sha256_byte(c, hi);
	sha256_byte(c, bits >> 24);
	sha256_byte(c, bits >> 16);
	sha256_byte(c, bits >> 8);
	sha256_byte(c, bits);
	for (uint8_t i = 0; i < 32; i++)
		out[i] = c->h[i >> 2] >> (24 - 8 * (i & 3));
}
