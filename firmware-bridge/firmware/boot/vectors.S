/*
 * The boot section's interrupt vector table (IVSEL = 1 while an
 * application runs) and the jump table at its end. PROTOCOL.md 10.1.
 */
#include <avr/io.h>
#include "bootapi.h"

	.section .vectors,"ax",@progbits
	.global __vectors
__vectors:
	jmp	boot_reset
	.irp	n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25
	jmp	fwd_\n
	.endr

/* Each vector forwards to the running slot's own vector n:
 * sbis touches neither SREG nor a register. */
	.section .text.fwd,"ax",@progbits
	.irp	n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25
fwd_\n:
	sbis	_SFR_IO_ADDR(GPIOR0), 0
	jmp	SLOT_A + 4 * \n
	jmp	SLOT_B + 4 * \n
	.endr

	.section .text.reset,"ax",@progbits
	.global boot_reset
boot_reset:
	clr	r1
	out	_SFR_IO_ADDR(SREG), r1
	ldi	r28, lo8(RAMEND)
	ldi	r29, hi8(RAMEND)
	out	_SFR_IO_ADDR(SPH), r29
	out	_SFR_IO_ADDR(SPL), r28
	jmp	boot_main

/* Four-byte jmp instructions spelt out as words, so that linker
 * relaxation cannot turn them into two-byte rjmps and move the entries. */
	.section .jumptab,"ax",@progbits
	.global boot_jumptab
boot_jumptab:
	.word	0x940C, pm(flash_write_page)	/* 0x7FF0: jmp */
	.word	0x940C, pm(boot_commit_impl)	/* 0x7FF4 */
	.word	0x940C, pm(boot_confirm_impl)	/* 0x7FF8 */
	.word	BOOT_VERSION		/* 0x7FFC */
	.word	BOOT_MAGIC		/* 0x7FFE */
