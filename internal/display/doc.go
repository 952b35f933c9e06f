// Package display writes values for people the one way fiosync writes them: sizes in binary
// units and counts with their nouns. The manifest summary, plan, apply and state output all
// use it, so "5 MiB" and "1 file" read the same in every command.
package display
