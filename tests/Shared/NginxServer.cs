using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace MLPipelines.Testing;

/// <summary>
/// A real nginx with WebDAV PUT on loopback, for the remote cache's tests (issue 10: plain HTTP GET/HEAD/PUT, as nginx,
/// Apache, Artifactory, Nexus and bazel-remote serve it). Each instance has its own prefix folder (config, logs, temp
/// files, data) and a free port; <see cref="Dispose"/> stops it and deletes the folder.
/// The cache lives under <see cref="BaseUrl"/> (<c>http://127.0.0.1:PORT/cache</c>); what a client PUT there is in
/// <see cref="DataDirectory"/> (so a test can tamper with or count what was uploaded), and every request is a line of
/// <see cref="AccessLog"/> (method, path and status: the combined log format).
/// </summary>
public sealed class NginxServer : IDisposable
{
    private readonly Process _process;

    private NginxServer(string prefix, int port, Process process)
    {
        Prefix = prefix;
        Port = port;
        _process = process;
    }

    /// <summary>The folder holding conf/, logs, tmp/ and data/.</summary>
    public string Prefix { get; }

    public int Port { get; }

    /// <summary>The remote cache's base URL, without a trailing slash.</summary>
    public string BaseUrl => string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{Port}/cache");

    /// <summary>A misbehaving "cache" that answers 200 with a login page to every request (GET, HEAD and PUT alike), as a proxy or SSO gateway may.</summary>
    public string AllOkUrl => string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{Port}/all-ok");

    /// <summary>A "cache" that redirects (302) every request to a login page (<c>/login</c>, which answers 200 to everything).</summary>
    public string RedirectUrl => string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{Port}/redirect");

    /// <summary>A cache whose <c>ac/</c> is real (WebDAV, as <see cref="BaseUrl"/>) and whose <c>cas/</c> answers 200 with a login page to everything.</summary>
    public string MixedUrl => string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{Port}/mixed");

    /// <summary>The requests logged so far whose path contains <paramref name="text"/>.</summary>
    public int RequestsTo(string text) =>
        File.Exists(AccessLog) ? ReadLines().Count(line => line.Contains(text, StringComparison.Ordinal)) : 0;

    private List<string> ReadLines()
    {
        using var stream = new FileStream(AccessLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            lines.Add(line);
        }

        return lines;
    }

    /// <summary>Where the files under <see cref="BaseUrl"/> are: <c>BaseUrl + "/ac/x"</c> is <c>DataDirectory/ac/x</c>.</summary>
    public string DataDirectory => Path.Combine(Prefix, "data", "cache");

    public string AccessLog => Path.Combine(Prefix, "access.log");

    /// <summary>Every file uploaded so far, relative to <see cref="DataDirectory"/> with <c>/</c>.</summary>
    public IReadOnlyList<string> StoredFiles() =>
        Directory.Exists(DataDirectory)
            ? Directory.EnumerateFiles(DataDirectory, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(DataDirectory, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>The requests logged so far whose method is <paramref name="method"/> (e.g. <c>PUT</c>).</summary>
    public int Requests(string method)
    {
        if (!File.Exists(AccessLog))
        {
            return 0;
        }

        using var stream = new FileStream(AccessLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var count = 0;
        while (reader.ReadLine() is { } line)
        {
            if (line.Contains($"\"{method} ", StringComparison.Ordinal))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// Starts nginx on a free loopback port. With <paramref name="basicAuthUser"/> and <paramref name="basicAuthPassword"/>
    /// every request needs those credentials (HTTP Basic), as a shared server would.
    /// </summary>
    /// <exception cref="InvalidOperationException">nginx is not installed (CI installs the Debian package), or it did not start: the message holds its error log.</exception>
    public static NginxServer Start(string? basicAuthUser = null, string? basicAuthPassword = null)
    {
        var nginx = Find() ?? throw new InvalidOperationException("nginx is not installed: `apt-get install nginx-light` (the remote cache tests run a real nginx; .ci/run installs it).");
        for (var attempt = 1; ; attempt++)
        {
            var prefix = Directory.CreateTempSubdirectory("mlp-nginx-").FullName;
            var port = FreePort();
            Configure(prefix, port, basicAuthUser, basicAuthPassword);
            var process = Process.Start(new ProcessStartInfo(nginx)
            {
                ArgumentList = { "-p", prefix + "/", "-c", Path.Combine(prefix, "conf", "nginx.conf"), "-e", Path.Combine(prefix, "error.log") },
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!;
            var server = new NginxServer(prefix, port, process);
            if (server.WaitUntilListening(TimeSpan.FromSeconds(15)))
            {
                return server;
            }

            var log = File.Exists(Path.Combine(prefix, "error.log")) ? File.ReadAllText(Path.Combine(prefix, "error.log")) : "";
            server.Dispose();
            // Another process may take the port between our probe and nginx's bind: try another one.
            if (attempt == 3 || !log.Contains("Address already in use", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"nginx did not start on port {port}: {log}");
            }
        }
    }

    /// <summary>Stops the server (the remote becomes unreachable) but keeps its folder, so a test can look at what it stored.</summary>
    public void Stop()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
        try
        {
            Directory.Delete(Prefix, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    private static readonly string[] Locations = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx", "/opt/homebrew/bin/nginx", "/usr/local/bin/nginx"];

    /// <summary>The nginx executable, or null when none is installed in the usual places (Debian, Homebrew, /usr/local).</summary>
    public static string? Find() => Locations.FirstOrDefault(File.Exists);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private bool WaitUntilListening(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                return false;
            }

            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                return true;
            }
            catch (SocketException)
            {
                Thread.Sleep(20);
            }
        }

        return false;
    }

    // One process (no master): it runs as the user who started it, so it can write its own temp folder (a root-run
    // master would hand requests to a "nobody" worker that cannot), and killing it leaves no worker behind.
    private static void Configure(string prefix, int port, string? user, string? password)
    {
        foreach (var folder in new[] { "conf", "tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi", "data/cache" })
        {
            Directory.CreateDirectory(Path.Combine(prefix, folder));
        }

        var auth = "";
        if (user is not null)
        {
            // nginx reads "{PLAIN}" entries (one of ngx_http_auth_basic_module's password schemes): a test password.
            File.WriteAllText(Path.Combine(prefix, "conf", "htpasswd"), $"{user}:{{PLAIN}}{password}\n");
            auth = $"""
                    auth_basic "pipeline cache";
                    auth_basic_user_file {prefix}/conf/htpasswd;
            """;
        }

        File.WriteAllText(Path.Combine(prefix, "conf", "nginx.conf"), string.Create(CultureInfo.InvariantCulture, $$"""
            daemon off;
            master_process off;
            pid {{prefix}}/nginx.pid;
            error_log {{prefix}}/error.log warn;
            events { worker_connections 512; }
            http {
                access_log {{prefix}}/access.log;
                client_body_temp_path {{prefix}}/tmp/body;
                proxy_temp_path {{prefix}}/tmp/proxy;
                fastcgi_temp_path {{prefix}}/tmp/fastcgi;
                uwsgi_temp_path {{prefix}}/tmp/uwsgi;
                scgi_temp_path {{prefix}}/tmp/scgi;
                default_type application/octet-stream;
                server {
                    listen 127.0.0.1:{{port}};
                    location /cache/ {
                        root {{prefix}}/data;
                        dav_methods PUT;
                        create_full_put_path on;
                        dav_access user:rw group:r all:r;
                        client_max_body_size 0;
            {{auth}}
                    }
                    client_max_body_size 0;
                    location /all-ok/ { default_type text/html; return 200 "<html><body>Please log in</body></html>"; }
                    location /redirect/ { return 302 http://127.0.0.1:{{port}}/login; }
                    location = /login { default_type text/html; return 200 "<html><body>Please log in</body></html>"; }
                    location /mixed/cas/ { default_type text/html; return 200 "<html><body>Please log in</body></html>"; }
                    location /mixed/ {
                        root {{prefix}}/data;
                        dav_methods PUT;
                        create_full_put_path on;
                        dav_access user:rw group:r all:r;
                    }
                }
            }
            """));
    }
}
