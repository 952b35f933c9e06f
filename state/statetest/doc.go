// Package statetest builds states for tests: Sample, a small state with fixed values
// throughout whose encoding is stable, and Big, a state shaped like a real delivery of n
// files. The state, statefile and store tests share them.
package statetest
