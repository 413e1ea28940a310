"""A Modbus RTU client from pymodbus (Debian's python3-pymodbus), for the
interoperability test of firmware-bridge/modbus: an implementation we did
not write reads our Server's answers, including Read Device
Identification (0x2B/0x0E) and Write File Record (0x15), which mbpoll
cannot send.

    /usr/bin/python3 pymodbus_client.py PORT UNIT

Prints one line per step ("HR …", "ID …", "EXC …") and "DONE".
"""
import sys

from pymodbus.client import ModbusSerialClient
from pymodbus.file_message import FileRecord, WriteFileRecordRequest
from pymodbus.mei_message import ReadDeviceInformationRequest
from pymodbus.transaction import ModbusRtuFramer


def main():
    port, unit = sys.argv[1], int(sys.argv[2])
    client = ModbusSerialClient(
        port=port, framer=ModbusRtuFramer, baudrate=19200,
        bytesize=8, parity="N", stopbits=2, timeout=1, retries=0,
    )
    if not client.connect():
        print("CONNECT FAILED", flush=True)
        return
    rr = client.write_registers(0x0100, [1, 0xC031, 0x3233], slave=unit)
    print("WR", "error" if rr.isError() else "ok", flush=True)
    rr = client.read_holding_registers(0x0100, 3, slave=unit)
    print("HR", "error" if rr.isError() else " ".join(str(v) for v in rr.registers), flush=True)
    # pymodbus 3.0: request objects take unit=, the client's methods slave=.
    rr = client.execute(ReadDeviceInformationRequest(read_code=2, object_id=0, unit=unit))
    if rr.isError():
        print("ID error", rr, flush=True)
    else:
        print("CONFORMITY", rr.conformity, flush=True)
        for oid, value in sorted(rr.information.items()):
            print("ID", oid, value.decode(), flush=True)
    rr = client.execute(ReadDeviceInformationRequest(read_code=4, object_id=1, unit=unit))
    print("ID1", "error" if rr.isError() else rr.information[1].decode(), flush=True)
    record = FileRecord(file_number=1, record_number=0, record_data=b"\x43\x46\x00\x01")
    rr = client.execute(WriteFileRecordRequest(records=[record], unit=unit))
    print("WFR", ("error %s" % rr) if rr.isError() else "ok", flush=True)
    rr = client.read_holding_registers(0x0200, 1, slave=unit)
    print("EXC", rr.exception_code if rr.isError() else "none", flush=True)
    client.close()
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
