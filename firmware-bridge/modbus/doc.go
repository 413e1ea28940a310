// Package modbus is the host side of the queue-hardware bus: Modbus RTU
// over RS-485, as firmware-bridge/PROTOCOL.md defines it.
//
// It holds the byte layer and the bus discipline, nothing about what a
// window display or a keypad means:
//
//   - CRC-16/MODBUS ([CRC16]), request and response PDUs ([Request],
//     [Response]) with strict decoders for both sides ([DecodeRequest],
//     [DecodeResponse]), and RTU frames ([AppendADU], [SplitADU]);
//   - [FrameReader], which cuts a serial byte stream into frames by length,
//     CRC and silence, and resynchronises after garbage;
//   - [RTU], one bus port: the 3.5-character silence before each
//     transmission, RS-485 direction control ([Direction]) around it;
//   - [Master]: requests with a computed per-request timeout and retries,
//     answers from the wrong unit or for the wrong function counted and
//     dropped, per-device [Health] and back-off of devices that do not
//     answer;
//   - [Scheduler]: the poll cycle, which bounds every device's latency;
//   - [Server]: the device side, for the emulator and for tests.
//
// The package never sleeps on the wall clock to pace the bus: silence is
// measured with the port's read timeout and an injected clock
// (github.com/jonboulle/clockwork), so modbustest can run a whole bus in
// virtual time. It never talks to a device it was not asked to, and it
// never retries a request that was answered with an exception.
package modbus
