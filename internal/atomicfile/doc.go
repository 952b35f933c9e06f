// Package atomicfile writes a file so that whoever reads it finds the old content or the
// new one, whole: never a part of it, whatever stops the write. The receipt, the emulator's
// env file and saved plans go through it.
package atomicfile
