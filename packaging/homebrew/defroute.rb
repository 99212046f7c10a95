# Homebrew formula for defroute: builds the binary from source with Deno (`deno task compile`,
# scripts/compile.ts) and installs it with the hook files.
#
# `url` and `sha256` name a release's source tarball. A release attaches this file with the tag's
# values filled in (.github/workflows/release.yml, through scripts/homebrew_formula.ts), and CI
# installs a copy pointing at a tarball of the checkout from a local tap; the all-zero sha256 here
# fails `brew install` loudly rather than building something unverified.
class Defroute < Formula
  desc "Keeps a Mac's default route alive around VPNs and tunnels"
  homepage "https://github.com/defroute/defroute"
  url "https://github.com/defroute/defroute/archive/refs/tags/v0.1.0.tar.gz"
  sha256 "0000000000000000000000000000000000000000000000000000000000000000"
  license "MIT"

  # Only to build: `deno compile` embeds the runtime, so the installed binary needs no Deno.
  depends_on "deno" => :build

  on_linux do
    depends_on arch: :x86_64 # the one Linux target scripts/compile.ts builds
  end

  def install
    target = if OS.mac?
      Hardware::CPU.arm? ? "aarch64-apple-darwin" : "x86_64-apple-darwin"
    else
      "x86_64-unknown-linux-gnu"
    end
    # Deno's caches (esbuild from npm for the bundle, denort for compile) stay in the build tree.
    ENV["DENO_DIR"] = (buildpath/".deno-dir").to_s
    ENV["DENO_NO_UPDATE_CHECK"] = "1"
    ENV["NO_COLOR"] = "1"
    system "deno", "task", "compile", "--target", target, "--out", buildpath/"dist"
    bin.install "dist/defroute-#{target}" => "defroute"
    pkgshare.install "hooks"
  end

  def caveats
    <<~EOS
      defroute changes routes as root: `sudo defroute restore`, `sudo defroute run -- CMD`.
      VPN hooks and the launchd daemon run it as root unattended, so give them a copy only root
      can replace (Homebrew's prefix is yours to write):
        sudo install -d -m 0755 /opt/defroute/bin
        sudo install -m 0755 #{opt_bin}/defroute /opt/defroute/bin/defroute
        sudo /opt/defroute/bin/defroute hook install
      and set DEFROUTE=/opt/defroute/bin/defroute for the hook scripts in #{opt_pkgshare}/hooks.
    EOS
  end

  test do
    assert_match "defroute #{version}", shell_output("#{bin}/defroute --version")
    # The launchd plist `hook install` would write: no root, no network, no routing socket.
    plist = shell_output("#{bin}/defroute hook print --binary #{opt_bin}/defroute")
    assert_match "<string>#{opt_bin}/defroute</string>", plist
    assert_match "<string>--heal</string>", plist
    # A usage error is exit 2 with one line (README, "Exit codes").
    assert_match "unknown command", shell_output("#{bin}/defroute frobnicate 2>&1", 2)
  end
end
