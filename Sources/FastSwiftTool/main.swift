// The `fastswift` tool: predict with, or serve, an exported image classifier.
//
//     swift run -c release fastswift predict export.safetensors photo.jpg
//     swift run -c release fastswift serve export.safetensors --port 8000
import Foundation
import Serving

exit(Tool.run(Array(CommandLine.arguments.dropFirst())))
