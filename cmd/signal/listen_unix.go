//go:build unix

package main

import "syscall"

// fileLimit is the process's open-file limit (0 if unknown). Go raises the
// soft limit to the hard one at start, so this is what the process may use.
func fileLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	return uint64(rl.Cur)
}
