import Foundation

/// Reads the success body of Entra ID's token endpoint (numbers) and of IMDS/Azure Arc (the same fields as
/// strings): `access_token` plus `expires_on` (Unix seconds) or `expires_in` (seconds from now).
enum TokenResponseParser {
    static func parse(_ body: [UInt8], now: Date) -> AccessToken? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let value = object["access_token"] as? String, !value.isEmpty else { return nil }
        if let expiresOn = seconds(object["expires_on"]) {
            return AccessToken(value: value, expiresOn: Date(timeIntervalSince1970: TimeInterval(expiresOn)))
        }
        if let expiresIn = seconds(object["expires_in"]) {
            return AccessToken(value: value, expiresOn: now.addingTimeInterval(TimeInterval(expiresIn)))
        }
        return nil
    }

    private static func seconds(_ value: Any?) -> Int? {
        switch value {
        case let text as String: Int(text.trimmingCharacters(in: .whitespaces))
        case let number as NSNumber: number.intValue
        default: nil
        }
    }
}
