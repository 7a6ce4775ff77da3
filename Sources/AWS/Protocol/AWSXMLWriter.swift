/// Escapes text for XML request bodies (S3's CreateBucketConfiguration and the like).
public enum AWSXMLWriter {
    /// `&`, `<`, `>`, `"` and `'` replaced by their entities.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }
}
