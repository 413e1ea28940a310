// Package bus drives the queue hardware on one RS-485 line: our window
// displays (CHG-WD1), operator keypads (CHG-KP1) and rating panels
// (CHG-RP1), and other makers' Modbus displays described by a profile, as
// firmware-bridge/PROTOCOL.md defines them.
//
// A [Bus] is one port (a serial device or a pseudo-terminal), one
// modbus.Master and one modbus.Scheduler, and the devices configured on
// it. It keeps the port open through devices/supervise (a USB adapter
// unplugged and plugged back keeps working), polls every device in turn
// and drives each by its register map:
//
//   - [Display] shows a call (one 0x10 write of the call block) or
//     clears; it writes the time, brightness and idle mode, and after a
//     power loss (SYNC_MIRROR is not the bus's token) it resyncs in the
//     order of PROTOCOL.md section 6.4;
//   - [Keypad] reads key presses through the acknowledged event queue of
//     section 5.2: each press is committed once to a [Journal] (in kioskd,
//     the link's outbox) together with the last sequence number taken, so
//     a press is never lost and never counted twice across lost answers,
//     retries, host restarts and device power cuts; it shows two lines of
//     text, four LEDs, and beeps;
//   - [Rating] invites one rating per finished visit;
//   - [ProfileDisplay] writes a ticket number to another maker's display.
//
// Every device reports its health as a devices.Status. A device that
// does not answer is backed off by the Master, so it costs the others at
// most one timeout per cycle.
//
// The package knows what our devices mean, not what a ticket or a queue
// is: it shows text it is given and reports keys; kioskd (terminal/bus.go)
// turns calls into text and keys into the link's events. It never writes
// a register PROTOCOL.md does not list for the device's type, and never
// writes to a device before reading what type it is.
package bus
