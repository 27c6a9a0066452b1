/// A lead's status at a network: the bucket plus the network's own words.
public struct LeadStatus: Sendable, Hashable {
    public var bucket: Bucket
    public var raw: String?
    public var detail: String?
    public init(bucket: Bucket, raw: String? = nil, detail: String? = nil) {
        self.bucket = bucket
        self.raw = raw
        self.detail = detail
    }
}
