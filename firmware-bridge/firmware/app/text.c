/*
 * Text registers to characters (PROTOCOL.md 6.3): ENCODING 1 is code
 * page CHG-1 (one byte a character), ENCODING 0 is UTF-8 of the same
 * characters. Either way the result is CHG-1 codes; what the code page
 * lacks, and every invalid UTF-8 sequence, is one box (CH_BOX).
 */
#include "fw.h"

static uint8_t chg1_ok(uint8_t b)
{
	if (b >= 0x20 && b <= 0x7E)
		return 1;
	if (b >= 0xC0)
		return 1;
	switch (b) {
	case 0xA5: case 0xB4: case 0xAA: case 0xBA: case 0xB2:
	case 0xB3: case 0xAF: case 0xBF: case 0xB9:
		return 1;
	}
	return 0;
}

static uint8_t from_unicode(uint16_t u)
{
	if (u >= 0x20 && u <= 0x7E)
		return u;
	if (u >= 0x0410 && u <= 0x044F)
		return u - 0x0410 + 0xC0;
	switch (u) {
	case 0x0490: return 0xA5;	/* Ґ */
	case 0x0491: return 0xB4;
	case 0x0404: return 0xAA;	/* Є */
	case 0x0454: return 0xBA;
	case 0x0406: return 0xB2;	/* І */
	case 0x0456: return 0xB3;
	case 0x0407: return 0xAF;	/* Ї */
	case 0x0457: return 0xBF;
	case 0x2116: return 0xB9;	/* № */
	}
	return CH_BOX;
}

uint8_t text_decode(const uint8_t *raw, uint8_t rawlen, uint8_t enc, uint8_t *out, uint8_t max)
{
	uint8_t n = 0, i = 0;
	while (i < rawlen && raw[i] && n < max) {
		uint8_t b = raw[i++];
		if (enc == 1) {
			out[n++] = chg1_ok(b) ? b : CH_BOX;
			continue;
		}
		if (b < 0x80) {
			out[n++] = from_unicode(b);
			continue;
		}
		uint8_t more;
		uint16_t u;
		if ((b & 0xE0) == 0xC0) { more = 1; u = b & 0x1F; }
		else if ((b & 0xF0) == 0xE0) { more = 2; u = b & 0x0F; }
		else if ((b & 0xF8) == 0xF0) { more = 3; u = 0; }	/* beyond U+FFFF: a box */
		else { out[n++] = CH_BOX; continue; }
		uint8_t ok = 1;
		for (; more; more--) {
			if (i >= rawlen || (raw[i] & 0xC0) != 0x80) {
				ok = 0;
				break;
			}
			u = u << 6 | (raw[i++] & 0x3F);
		}
		out[n++] = ok ? from_unicode(u) : CH_BOX;
	}
	return n;
}
