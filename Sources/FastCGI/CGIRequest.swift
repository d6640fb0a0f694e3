import CFastCGI
import Foundation
import HTTP

/// Classic CGI: the web server starts the program once per request, with the request in the
/// environment and the body on stdin, and reads the response from stdout.
public enum CGIRequest {
    /// True when started as a CGI program: stdin is not a FastCGI listening socket
    /// (`FCGX_IsCGI`) and the web server set the CGI/1.1 variables.
    public static var isCGI: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["GATEWAY_INTERFACE"]?.hasPrefix("CGI/") == true && env["REQUEST_METHOD"] != nil
            && FCGX_IsCGI() != 0
    }

    /// Reads the request, answers it with `responder`, writes the response to stdout.
    public static func serveOnce(maxBodyBytes: Int, responder: (Request) -> Response) {
        let (response, bodyLength) = FastCGIParams(environment: ProcessInfo.processInfo.environment).respond(
            maxBodyBytes: maxBodyBytes, read: readStandardInput, discard: { _ in }, responder: responder)
        let bytes = FastCGIResponseWriter.encode(response, bodyLength: bodyLength)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            written += n
        }
    }

    private static func readStandardInput(count: Int) -> [UInt8] {
        var body = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = body[filled...].withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            filled += n
        }
        return Array(body[..<filled])
    }
}
