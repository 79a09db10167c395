// The annotated examples of both files: every field with its documentation, as shown by
// `mox config describe-static` / `describe-domains` and on the website's config reference.
import Sconf

public enum ConfigDescribe {
    /// An annotated mox.conf with every field, its documentation and zero values.
    public static var staticExample: String { Sconf.describe(StaticConfig.self) }

    /// An annotated domains.conf with every field, its documentation and zero values.
    public static var dynamicExample: String { Sconf.describe(DynamicConfig.self) }
}
