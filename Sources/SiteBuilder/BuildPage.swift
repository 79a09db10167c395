// The /b/ page: how to build any version of the server, named in the URL fragment
// (`/b/#v0.1.0`, `/b/#main`, `/b/#1a2b3c4`), and how to try a change with localserve.

enum BuildPage {
    static func html(liveReload: Bool) -> String {
        let body = """
            <h1 id="hdr-build">Build a version</h1>
            <p>Build any version of the server from source: a release tag, a branch or a commit hash, taken from \
            this page's address after the <code>#</code>, for example <code>/b/#main</code>.</p>
            <div id="version"><p>No version was named in the address; the commands below use a placeholder.</p></div>
            <h2 id="hdr-compile">Compile <a class="self" href="#hdr-compile">#</a></h2>
            <p>You need Linux with the Swift 6.3 toolchain and the Debian packages <code>libcmark-dev</code>, \
            <code>libsqlite3-dev</code> and <code>pkg-config</code>. Then run:</p>
            <pre id="commands">git clone REPOSITORY mox
            cd mox
            git checkout &lt;tag-branch-or-commit&gt;
            swift build -c release --product mox
            .build/release/mox version</pre>
            <h2 id="hdr-try-a-change-locally">Try a change locally <a class="self" href="#hdr-try-a-change-locally">#</a></h2>
            <p>The quickest way to test a build, without touching a running installation, is \
            <a href="../features/#hdr-localserve">mox localserve</a>: the whole server on your own machine, on \
            loopback ports, with no DNS needed. From the checkout, run <code>swift run mox localserve</code> \
            (planned, see the roadmap).</p>
            <script>
            (() => {
            \tconst ref = decodeURIComponent(location.hash.substring(1))
            \t// Accept only what git allows in a simple ref name, so the text can't be read as anything else.
            \tconst ok = /^[A-Za-z0-9][A-Za-z0-9._\\/-]{0,99}$/.test(ref) && !ref.includes('..') && !ref.endsWith('.lock') && !ref.endsWith('/')
            \tif (!ok) {
            \t\tif (ref !== '') {
            \t\t\tdocument.getElementById('version').textContent = 'The address names an invalid version; the commands below use a placeholder.'
            \t\t}
            \t\treturn
            \t}
            \tdocument.getElementById('version').textContent = 'Version: ' + ref
            \tconst pre = document.getElementById('commands')
            \tpre.textContent = pre.textContent.replace('<tag-branch-or-commit>', ref)
            })()
            </script>
            """
        return Layout.page(dir: "b/", title: "Build - Mox", body: body, liveReload: liveReload)
    }
}
