#ifndef CHERGA_EVENTS_H
#define CHERGA_EVENTS_H
#include <stdint.h>
void ev_init(void);		/* after eew_load */
uint8_t ev_add(uint8_t code);	/* key | 0x80 for long; 1: the queue was full (EV_LOST counted) */
uint16_t ev_lost(void);		/* EV_LOST */
void ev_ack(uint16_t seq);
void ev_tick100(void);
void ev_prepare(void);
uint16_t ev_ireg(uint8_t i);	/* I 0x0002 + i */
#endif
