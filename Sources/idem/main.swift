import Foundation
import IdemServer

exit(Responder.main(arguments: Array(CommandLine.arguments.dropFirst())))
