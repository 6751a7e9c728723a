import FoundationEssentials

/// Reads the success body of Entra ID's token endpoint (numbers) and of IMDS/Azure Arc (the same fields as
/// strings): `access_token` plus `expires_on` (Unix seconds) or `expires_in` (seconds from now).
enum TokenResponseParser {
    static func parse(_ body: [UInt8], now: Date) -> AccessToken? {
        guard let object = JSONValue.object(parsing: body), let value = object["access_token"]?.string, !value.isEmpty else { return nil }
        if let expiresOn = seconds(object["expires_on"]) {
            return AccessToken(value: value, expiresOn: Date(timeIntervalSince1970: TimeInterval(expiresOn)))
        }
        if let expiresIn = seconds(object["expires_in"]) {
            return AccessToken(value: value, expiresOn: now.addingTimeInterval(TimeInterval(expiresIn)))
        }
        return nil
    }

    private static func seconds(_ value: JSONValue?) -> Int? {
        if case .string(let text) = value { return Int(text.trimmingWhitespace()) }
        return value?.truncatedInt
    }
}
