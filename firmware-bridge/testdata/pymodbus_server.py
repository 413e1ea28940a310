"""A Modbus RTU server from pymodbus (Debian's python3-pymodbus), for the
interoperability test of firmware-bridge/modbus: our Master against an
implementation we did not write.

    /usr/bin/python3 pymodbus_server.py PORT UNIT [BAUD [PARITY [STOPBITS]]]

Unit UNIT has holding registers 0-124 (register i = 1000 + i) and input
registers 0-99 (register i = 2000 + i), PDU addresses (zero_mode), and
the identification objects of a cherga window display. Everything else
answers as pymodbus does. Prints "READY" once the port is open.
"""
import asyncio
import sys

from pymodbus.datastore import (
    ModbusSequentialDataBlock,
    ModbusServerContext,
    ModbusSlaveContext,
)
from pymodbus.device import ModbusDeviceIdentification
from pymodbus.server.async_io import ModbusSerialServer
from pymodbus.transaction import ModbusRtuFramer


async def main():
    port, unit = sys.argv[1], int(sys.argv[2])
    baud = int(sys.argv[3]) if len(sys.argv) > 3 else 19200
    parity = sys.argv[4] if len(sys.argv) > 4 else "N"
    stopbits = int(sys.argv[5]) if len(sys.argv) > 5 else 2
    slave = ModbusSlaveContext(
        hr=ModbusSequentialDataBlock(0, [1000 + i for i in range(125)]),
        ir=ModbusSequentialDataBlock(0, [2000 + i for i in range(100)]),
        zero_mode=True,
    )
    context = ModbusServerContext(slaves={unit: slave}, single=False)
    identity = ModbusDeviceIdentification(
        info_name={
            "VendorName": "cherga",
            "ProductCode": "CHG-WD1",
            "MajorMinorRevision": "1.2.0",
            "ModelName": "window display 8x1",
        }
    )
    server = ModbusSerialServer(
        context,
        framer=ModbusRtuFramer,
        identity=identity,
        port=port,
        baudrate=baud,
        bytesize=8,
        parity=parity,
        stopbits=stopbits,
        broadcast_enable=True,
    )
    await server.start()
    print("READY", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
