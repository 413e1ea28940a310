package main

import (
	"context"
	"fmt"
	"io"
)

const bridgeMoreUsage = `  kioskctl bridge emulate -link PATH -devices 1:window-display,2:keypad,3:rating
                        [-state DIR] [-line "19200 8N2"] [-http 127.0.0.1:8095] [-firmware 1.0.0]
  kioskctl bridge press     [-emulator 127.0.0.1:8095] -addr N -key next|recall|…|1-7 [-long]
  kioskctl bridge fault     [-emulator 127.0.0.1:8095] -addr N -kind silent|corrupt|slow|garbage|none
                            [-delay 250ms] [-bytes 16] [-count N]
  kioskctl bridge power-cut [-emulator 127.0.0.1:8095] -addr N [-for 2s] [-after-chunk K]
`

// bridgeMore takes the bridge subcommands bridge.go does not know: the
// device emulator and the commands that drive it (emulate.go).
func bridgeMore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch args[0] {
	case "emulate":
		return bridgeEmulate(ctx, args[1:], stdout, stderr)
	case "press":
		return bridgePress(ctx, args[1:], stdout, stderr)
	case "fault":
		return bridgeFault(ctx, args[1:], stdout, stderr)
	case "power-cut":
		return bridgePowerCut(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "kioskctl bridge: no command %q; also:\n%s", args[0], bridgeMoreUsage)
	return errUsageShown
}
