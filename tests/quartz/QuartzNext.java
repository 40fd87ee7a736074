/* QuartzNext.java - the oracle side of the Quartz differential test (tests/quartz/run.sh).
 *
 * Reads lines "zone<TAB>from_ms<TAB>n<TAB>expr" on stdin and prints one line per input line:
 * the n successive fire times of expr in zone after from_ms (epoch milliseconds; each one
 * computed strictly after the one before), separated by spaces, as given by
 * org.quartz.CronExpression.getNextValidTimeAfter(). "none" when Quartz returns null (the
 * chain stops there), "parse-error" when the expression does not parse, "loop" when a call
 * does not return within the watchdog (Quartz's search never ends on a few inputs: LW in
 * Pacific/Apia, December 2011; L-nW before the month's first day). Empty lines and lines
 * starting with '#' are skipped without output. tests/quartz/cron_diff.c is the jobsd side.
 *
 * Each chain runs on a worker thread; on timeout the worker is killed with Thread.stop()
 * (still works on Java 17, the oracle; Java 20 and later refuse it) and a fresh one takes
 * the next line.
 *
 *   java -cp quartz2.jar:. QuartzNext [--timeout-ms 2000] < input
 *   java -cp quartz2.jar:. QuartzNext --version     e.g. "Quartz 2.3.2, OpenJDK 17.0.15"
 */
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Properties;
import java.util.TimeZone;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.quartz.CronExpression;

public class QuartzNext {
	/* One input line and what has been computed for it so far. */
	static final class Job {
		final String zone, expr;
		final long from;
		final int n;
		final List<String> out = new ArrayList<>();
		boolean done;

		Job(String zone, long from, int n, String expr) {
			this.zone = zone;
			this.from = from;
			this.n = n;
			this.expr = expr;
		}

		synchronized void add(String token) {
			out.add(token);
		}

		synchronized void finish() {
			done = true;
			notifyAll();
		}

		/* Waits up to ms for the chain; true if it ended. */
		synchronized boolean await(long ms) throws InterruptedException {
			long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
			while (!done) {
				long left = end - System.nanoTime();
				if (left <= 0)
					return false;
				TimeUnit.NANOSECONDS.timedWait(this, left);
			}
			return true;
		}

		synchronized String line(boolean looped) {
			StringBuilder b = new StringBuilder();
			for (String t : out) {
				if (b.length() > 0)
					b.append(' ');
				b.append(t);
			}
			if (looped)
				b.append(b.length() > 0 ? " loop" : "loop");
			return b.toString();
		}
	}

	static void chain(Job j) {
		CronExpression ce;
		try {
			ce = new CronExpression(j.expr);
		} catch (ParseException e) {
			j.add("parse-error");
			return;
		}
		ce.setTimeZone(TimeZone.getTimeZone(j.zone));
		Date d = new Date(j.from);
		for (int i = 0; i < j.n; i++) {
			try {
				d = ce.getNextValidTimeAfter(d);
			} catch (RuntimeException e) {
				j.add("exception:" + e.getClass().getSimpleName());
				return;
			}
			if (d == null) {
				j.add("none");
				return;
			}
			j.add(Long.toString(d.getTime()));
		}
	}

	static final class Worker extends Thread {
		final LinkedBlockingQueue<Job> queue = new LinkedBlockingQueue<>();

		Worker() {
			super("quartz-worker");
			setDaemon(true);
		}

		@Override
		public void run() {
			for (;;) {
				Job j;
				try {
					j = queue.take();
				} catch (InterruptedException e) {
					return;
				}
				chain(j);
				j.finish();
			}
		}
	}

	static String version() throws Exception {
		Properties p = new Properties();
		try (InputStream in = CronExpression.class.getResourceAsStream(
			     "/org/quartz/core/quartz-build.properties")) {
			if (in != null)
				p.load(in);
		}
		String rt = System.getProperty("java.runtime.name", "");
		String vm = rt.contains("OpenJDK") ? "OpenJDK" : rt;
		return "Quartz " + p.getProperty("version", "?") + ", " + vm + " " +
			System.getProperty("java.version");
	}

	@SuppressWarnings({ "deprecation", "removal" })
	public static void main(String[] args) throws Exception {
		long timeoutMs = 2000;
		for (int i = 0; i < args.length; i++) {
			if (args[i].equals("--version")) {
				System.out.println(version());
				return;
			} else if (args[i].equals("--timeout-ms") && i + 1 < args.length) {
				timeoutMs = Long.parseLong(args[++i]);
			} else {
				System.err.println("usage: QuartzNext [--timeout-ms MS] [--version]");
				System.exit(2);
			}
		}
		BufferedReader r =
			new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
		Writer w = new BufferedWriter(
			new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
		Worker worker = new Worker();
		worker.start();
		String line;
		int lineno = 0;
		while ((line = r.readLine()) != null) {
			lineno++;
			if (line.isEmpty() || line.startsWith("#"))
				continue;
			String[] f = line.split("\t", 4);
			if (f.length != 4) {
				System.err.println("QuartzNext: line " + lineno + ": expected zone, from_ms, n, expr");
				System.exit(2);
			}
			Job j = new Job(f[0], Long.parseLong(f[1]), Integer.parseInt(f[2]), f[3]);
			worker.queue.put(j);
			boolean looped = !j.await(timeoutMs);
			if (looped) {
				worker.stop();
				worker.join(5000);
				worker = new Worker();
				worker.start();
			}
			w.write(j.line(looped));
			w.write('\n');
		}
		w.flush();
	}
}
