/// The sizes LeadBridge refuses before doing any work with an input, so a runaway value (a
/// 10 MB network name, a log pasted into a config) costs nothing and gets a clear message.
/// Documented in docs/limits.md; every reader of configs, specs and leads goes through these.
public enum InputLimits {
    /// `leadbridge.json` as a whole.
    public static let configBytes = 1 << 20
    /// Any one string in `leadbridge.json` (tokens, URLs, parameter values).
    public static let configString = 4096
    /// One spec or template file.
    public static let specBytes = 1 << 20
    /// Any one string in a spec (example response bodies are the longest).
    public static let specString = 64 * 1024
    /// One lead: a lead file, one element of a JSON array, one line of NDJSON.
    public static let leadBytes = 64 * 1024
    /// One field of a lead (name, address, a sub id, an extra value).
    public static let leadField = 2000
    /// Ids and names: lead ids, network ids and aliases, account names.
    public static let id = 64

    /// `"is N bytes; the limit is M"` for messages.
    public static func tooLarge(_ size: Int, limit: Int) -> String {
        "is \(size) bytes; the limit is \(limit) (see docs/limits.md)"
    }
}
