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
        let params = FastCGIParams(environment: ProcessInfo.processInfo.environment)
        let length = params.contentLength
        let response: Response
        if length > maxBodyBytes {
            response =
                Problem(
                    status: .contentTooLarge, type: "body-too-large", title: "Request body too large",
                    detail: "The body is \(length) bytes; the limit is \(maxBodyBytes)."
                ).response
        } else {
            let body = readStandardInput(count: length)
            if body.count < length {
                response =
                    Problem(
                        status: .badRequest, type: "incomplete-body", title: "Incomplete request body",
                        detail: "Received \(body.count) of \(length) bytes."
                    ).response
            } else {
                let request = params.request(body: body)
                let answer = responder(request)
                response = request.method == .head ? Response(status: answer.status, headers: answer.headers) : answer
            }
        }
        let bytes = FastCGIResponseWriter.encode(response, bodyLength: response.body.count)
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
