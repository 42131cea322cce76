//go:build windows

package lsp

import "syscall"

// processAlive reports whether pid still runs: a process handle can be
// opened for it and it has not exited.
func processAlive(pid int) bool {
	const synchronize = 0x00100000
	h, err := syscall.OpenProcess(syscall.PROCESS_QUERY_INFORMATION|synchronize, false, uint32(pid))
	if err != nil {
		return false
	}
	defer syscall.CloseHandle(h)
	ev, err := syscall.WaitForSingleObject(h, 0)
	return err == nil && ev == syscall.WAIT_TIMEOUT
}
