// Package emutest starts an emulator for a test: served on loopback, closed when the test
// ends, with a frameio client that sends the seed's static bearer token, as the CLI does with
// FRAMEIO_TOKEN.
//
// Only tests import it. It is the one place outside the emulator's own tests where the
// emulator and the client meet, so the two still share no code.
package emutest
