// Package queuecompare measures River (github.com/riverqueue/river) on the
// delivery-queue workload that internal/store's BenchmarkQueue runs on
// Signal's purpose-built queue, for docs/decisions.md. It is a module of its
// own so that River never enters the main module's go.mod; see README.md.
package queuecompare
