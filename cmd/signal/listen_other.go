//go:build !unix

package main

// fileLimit is unknown here: the default caps apply.
func fileLimit() uint64 { return 0 }
