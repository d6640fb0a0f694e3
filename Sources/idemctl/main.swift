import Foundation
import IdemControl

exit(Control.main(arguments: Array(CommandLine.arguments.dropFirst())))
