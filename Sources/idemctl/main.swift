import Foundation
import IdemServer

exit(Control.main(arguments: Array(CommandLine.arguments.dropFirst())))
