package emulator

import (
	"path"
	"strings"
)

// mediaTypes maps lower-case extensions to the media type Frame.io reports. Frame.io decides the
// type from the name; the list covers what productions upload most.
var mediaTypes = map[string]string{
	".mov":  "video/quicktime",
	".mp4":  "video/mp4",
	".m4v":  "video/x-m4v",
	".mxf":  "application/mxf",
	".r3d":  "video/x-red-r3d",
	".braw": "video/x-blackmagic-raw",
	".avi":  "video/x-msvideo",
	".mkv":  "video/x-matroska",
	".wav":  "audio/wav",
	".mp3":  "audio/mpeg",
	".aif":  "audio/aiff",
	".aiff": "audio/aiff",
	".m4a":  "audio/mp4",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".png":  "image/png",
	".gif":  "image/gif",
	".tif":  "image/tiff",
	".tiff": "image/tiff",
	".exr":  "image/x-exr",
	".dpx":  "image/x-dpx",
	".pdf":  "application/pdf",
	".txt":  "text/plain",
	".csv":  "text/csv",
	".srt":  "application/x-subrip",
	".json": "application/json",
	".zip":  "application/zip",
}

// mediaType returns the media type for a file name, application/octet-stream when the
// extension is unknown.
func mediaType(name string) string {
	if t, ok := mediaTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}
