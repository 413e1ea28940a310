package simprinter

import "github.com/cherga/kiosk/printer/escpos"

func parseAll(b []byte) ([]escpos.Op, error) { return escpos.Parse(b) }
