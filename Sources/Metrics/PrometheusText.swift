/// Escaping and number formatting of the Prometheus text exposition format 0.0.4.
enum PrometheusText {
    /// `{name="value",…}` with values escaped, or "" without labels.
    static func labels(_ names: [String], _ values: [String]) -> String {
        guard !names.isEmpty else { return "" }
        let pairs = zip(names, values).map { "\($0)=\"\(escapeLabelValue($1))\"" }
        return "{" + pairs.joined(separator: ",") + "}"
    }

    /// Backslash, double quote and line feed escaped, as label values require.
    static func escapeLabelValue(_ value: String) -> String {
        escape(value, quote: true)
    }

    /// Backslash and line feed escaped, as `# HELP` text requires.
    static func escapeHelp(_ help: String) -> String {
        escape(help, quote: false)
    }

    private static func escape(_ text: String, quote: Bool) -> String {
        guard text.utf8.contains(where: { $0 == 0x5C || $0 == 0x0A || (quote && $0 == 0x22) }) else { return text }
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count + 8)
        for character in text.unicodeScalars {
            switch character {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\"" where quote: escaped += "\\\""
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// A sample value as client_golang writes it (`strconv.FormatFloat(v, 'g', -1, 64)`): the
    /// shortest digits that round-trip, exponent form when the exponent is below -4 or at least
    /// 6 (`1e-05`, `1.5e+06`), plain otherwise (`0.25`, `100000`); `+Inf`, `-Inf`, `NaN`.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        if value == 0 { return "0" }
        // Swift's description also prints the shortest round-trip digits; only the layout differs.
        let (digits, point) = shortestDigits(value.magnitude)
        let sign = value < 0 ? "-" : ""
        let exponent = point - 1
        if exponent < -4 || exponent >= 6 {
            var text = sign + String(digits.first!)
            if digits.count > 1 { text += "." + String(digits.dropFirst()) }
            let magnitude = String(abs(exponent))
            return text + (exponent < 0 ? "e-" : "e+") + (magnitude.count < 2 ? "0" : "") + magnitude
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + String(digits) }
        if point >= digits.count { return sign + String(digits) + String(repeating: "0", count: point - digits.count) }
        return sign + String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
    }

    /// The significant digits of a positive finite value, without leading or trailing zeros, and
    /// where the decimal point goes: value = 0.d₁d₂… × 10^point.
    private static func shortestDigits(_ value: Double) -> (digits: [Character], point: Int) {
        let text = value.description
        let parts = text.split(separator: "e", maxSplits: 1)
        let exponent = parts.count == 2 ? Int(parts[1])! : 0
        let mantissa = parts[0].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        var digits = Array(mantissa[0]) + (mantissa.count == 2 ? Array(mantissa[1]) : [])
        var point = mantissa[0].count + exponent
        while digits.first == "0" {
            digits.removeFirst()
            point -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        return (digits, point)
    }
}
