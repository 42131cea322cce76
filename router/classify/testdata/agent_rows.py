#!/usr/bin/env python3
"""Writes the agent-shaped rows of labelled.jsonl (agent-tune, agent-heldout, agent-fresh, agent-fresh2, agent-fresh3, agent-fresh4, agent-tune2, agent-tune3, agent-tune4, agent-fresh5).

Run from this directory: python3 agent_rows.py. It keeps the text rows and rewrites the agent rows.
Each row is one hand-written request wrapped the way coding agents send it; the agents' system
prompts are paraphrased, not copied."""
import json

TASKS = [
("coding", "Add a --dry-run flag to the deploy command that prints the plan without applying it."),
("reasoning", "We need to pick between Postgres advisory locks and a Redis lock for the job scheduler. Which one would you go with, given we already run both?"),
("analysis", "The integration test TestUploadResumes fails about one run in twenty on CI. Look at the upload code and tell me what could make it flaky."),
("documentation", "Write a README section for the ingest service: what it does, how to run it locally, and the environment variables it reads."),
("coding", "Implement retry with exponential backoff in internal/httpclient/client.go, max 5 attempts, and make the tests pass."),
("reasoning", "I'm torn between keeping the monolith and splitting billing out into its own service. What are the trade-offs for a team of four?"),
("analysis", "Review the changes in this branch for security problems before I open the PR."),
("documentation", "Add doc comments to every exported function in pkg/ratelimit."),
("coding", "Rename the UserStore interface to AccountStore everywhere and update the mocks."),
("reasoning", "How should we version the public API so that old mobile clients keep working while we change the pagination?"),
("analysis", "Why does the memory of the worker keep growing after each batch? Here is the heap profile summary I got."),
("documentation", "Summarize what the migration scripts in db/migrations do, one line each, for the release notes."),
("coding", "Convert the callback-based file watcher in src/watch.js to async/await."),
("reasoning", "Should the cache invalidation happen in the write path or in a background job? Think through consistency and latency."),
("analysis", "Find where we leak goroutines in the websocket hub; the count climbs under load."),
("documentation", "Explain how the request pipeline in server/middleware fits together, for a new teammate."),
("coding", "Write unit tests for parseDuration covering empty input, negative values and overflow."),
("reasoning", "What's a sensible sharding strategy for the events table once it passes a billion rows?"),
("analysis", "Is the token comparison in auth/verify.go vulnerable to timing attacks?"),
("documentation", "Write a commit message for the staged changes."),
("coding", "The build is broken after the dependency bump: undefined: grpc.WithInsecure. Fix it."),
("reasoning", "Design the data model for recurring invoices with proration. Don't write code yet, I want the approach first."),
("analysis", "Check the SQL in repository/orders.go for injection risks and missing indexes."),
("documentation", "Generate a CHANGELOG entry for version 2.4.0 from the commits since the last tag."),
("coding", "Make the config loader thread-safe; two goroutines reload it at the same time and we get a data race."),
("reasoning", "Is it worth moving from REST to gRPC for the internal services, or is that overkill for our traffic?"),
("analysis", "What's wrong with this retry loop? It sometimes never gives up."),
("documentation", "Document the CLI flags of the backup tool in docs/backup.md with an example for each."),
("coding", "Add pagination to the /api/projects endpoint using cursor-based tokens."),
("reasoning", "Which consistency model do we actually need for the shopping cart: strong, or is eventual fine?"),
("analysis", "Profile the image resize handler and tell me where the time goes; p99 is 2 seconds."),
("documentation", "Write the package comment for package scheduler describing its guarantees."),
("coding", "Replace the hand-written JSON parsing in config.py with pydantic models."),
("reasoning", "How would you approach migrating 40 cron jobs to a queue without downtime? Give me a plan."),
("analysis", "Does the new cleanup function handle the case where the directory was already removed?"),
("documentation", "Describe what the reconcile loop in controller.go does, step by step, in plain English."),
("coding", "Extract the validation logic from handlers/signup.go into its own function and reuse it in handlers/invite.go."),
("reasoning", "Should we store money as integer cents or as decimal in the new ledger? Pros and cons, please."),
("analysis", "Audit the Dockerfile for anything insecure or bloated."),
("documentation", "Add docstrings to the public methods of the Client class in sdk/client.py."),
("coding", "Port the bash script scripts/release.sh to a Go program under cmd/release."),
("reasoning", "What algorithm would you use to detect near-duplicate documents at our scale, and why?"),
("analysis", "The p95 latency doubled after yesterday's deploy. Compare the two versions of the query builder and tell me what changed in the generated SQL."),
("documentation", "Write an onboarding guide section explaining how our feature flags work."),
("coding", "Implement the TODO in pkg/merge/merge.go: three-way merge of the settings maps."),
("reasoning", "We keep arguing about monorepo vs polyrepo. Help me decide for our 12 services."),
("analysis", "Are there any race conditions in the session manager?"),
("documentation", "Explain what this regular expression in validate.ts matches."),
("coding", "Remove the deprecated v1 endpoints and everything only they use."),
("reasoning", "How many shards would we need for 50k writes per second if each node handles 8k? Estimate with some headroom."),
("analysis", "Look at the stack trace in the last tool output and find the root cause."),
("documentation", "Update the API reference for the /search endpoint to mention the new filters."),
("coding", "Add OpenTelemetry tracing to the HTTP handlers and the database calls."),
("reasoning", "Would an event-sourced design make sense for the audit trail, or is an append-only table enough?"),
("analysis", "Go over the error handling in the payment module and point out swallowed errors."),
("documentation", "Write a short overview of the repository layout for CONTRIBUTING.md."),
("coding", "Make the failing test TestParseHeaders pass without changing the test."),
("reasoning", "What's the best way to roll out the new auth flow gradually without breaking existing sessions?"),
("analysis", "Tell me if the LRU cache implementation is correct under concurrent access."),
("documentation", "Give me a high-level summary of how the build pipeline works."),
("coding", "Scaffold a new React component UserAvatar with props for size and fallback initials, plus a story."),
("reasoning", "Think through whether we should use optimistic or pessimistic locking for seat reservations."),
("analysis", "Scan the repo for hard-coded credentials or tokens."),
("documentation", "Write release notes for the customers about the new export feature, non-technical tone."),
("coding", "Use the new logger everywhere in services/notify instead of fmt.Printf."),
("reasoning", "Given our SLOs, is a single-region deployment with backups acceptable or do we need multi-region?"),
("analysis", "Why does the CLI hang when stdin is not a terminal?"),
("documentation", "Add comments explaining the tricky bit-manipulation in hash.go."),
("coding", "Fix the off-by-one in the pagination helper; the last page is missing one item."),
("reasoning", "Which data structure should back the rate limiter: a sliding window log or a token bucket?"),
("analysis", "Identify the bottleneck in the CSV import; it takes 10 minutes for 100 MB."),
("documentation", "Document the architecture decision we just made in docs/adr/0007-queue.md."),
("coding", "Write a migration that adds a nullable archived_at column to projects and backfills it from the status column."),
("reasoning", "Plan the steps to upgrade from Python 3.8 to 3.12 across the services, in what order and with which risks."),
("analysis", "Is there any dead code in the reporting package?"),
("documentation", "Explain to me what the function at the cursor returns and when it errors."),
("coding", "Wire the new PaymentProvider interface into the checkout service and register the Stripe implementation."),
("reasoning", "Should I split this 2,000-line file into packages now, or wait until the feature is done?"),
("analysis", "Evaluate whether the new index actually gets used by the slow query; here's the EXPLAIN output."),
("documentation", "Write a docstring for compute_score that documents the weighting."),
("coding", "Parallelize the thumbnail generation with a worker pool of size GOMAXPROCS."),
("reasoning", "Prove that the scheduling algorithm in the design doc never starves low-priority jobs, or find a counterexample."),
("analysis", "Check whether the websocket server validates the Origin header."),
("documentation", "Summarize the discussion in the last few messages into a design note I can share."),
("coding", "Add a GitHub Actions workflow that runs go test and golangci-lint on pull requests."),
("reasoning", "What would happen to our error budget if we drop the retry layer? Reason it through before we change anything."),
("analysis", "What caused the panic in the logs above?"),
("documentation", "Write the help text for the new `sync` subcommand."),
("coding", "Implement a Trie with insert, search and prefix search in trie.rs, with tests."),
("reasoning", "How should we structure the plugin system so third parties can't crash the host?"),
("analysis", "Look at the diff and check it for edge cases I missed."),
("documentation", "Describe the public interface of the storage package in the docs folder."),
("coding", "Handle SIGTERM in the worker so it finishes the current job before exiting."),
("reasoning", "Compare SQLite and Postgres for the desktop app's local storage; we need full-text search and sync later."),
("analysis", "Verify that every database transaction in the billing code is committed or rolled back on all paths."),
("documentation", "Tell me what the purpose of the Reconciler type is and who calls it."),
("coding", "Regenerate the protobuf code and update the callers for the renamed fields."),
("reasoning", "Is a bloom filter a good idea in front of the user lookup, given a 1% false positive rate?"),
("analysis", "Diagnose why the Kubernetes pod restarts every few hours; the events and logs are in the tool results."),
("documentation", "Write a tutorial that walks through adding a new provider, for the docs site."),
("coding", "go ahead and apply that change to all three handlers"),
("reasoning", "We could cache per user or per tenant. Which approach scales better as tenants grow to 10k users?"),
("analysis", "Double-check the new rate limiter for off-by-one errors at the window boundary."),
("documentation", "Write a docs page that explains the retry policy and its defaults."),
("coding", "Create a Makefile target that builds the Docker image with the git SHA as tag."),
("reasoning", "Outline a roadmap for deprecating the XML API over the next two quarters."),
("analysis", "Is the file upload path safe against path traversal?"),
("documentation", "Annotate the config struct fields with comments explaining each setting."),
("coding", "Delete the feature flag new_checkout and keep only the new code path."),
("reasoning", "What are the implications of switching the primary keys from integers to UUIDv7?"),
("analysis", "Spot anything suspicious in the auth middleware changes."),
("documentation", "Write a paragraph for the README explaining how to configure the gateway with Continue."),
("coding", "Support YAML as well as JSON in the config loader, selected by file extension."),
("reasoning", "How do we keep the mobile app and the web app's validation rules from drifting apart? Think about the options."),
("analysis", "Why is this test slower on ARM runners than on x86?"),
("documentation", "Describe the retry and timeout behaviour of the HTTP client in the package docs."),
]

# agent-fresh: written after the agent rules were frozen; measured once.
FRESH = [
("coding", "Hook the new metrics exporter into main.go and expose it on :9102."),
("reasoning", "Would it be smarter to denormalize the order totals or compute them on read? We have 5 reads per write."),
("analysis", "Something in the auth refresh flow logs users out randomly. Dig through token.go and tell me what's going on."),
("documentation", "Write up how the retry queue works so the on-call person understands it at 3am."),
("coding", "Swap the hand-rolled LRU in cache/lru.go for hashicorp's golang-lru and keep the same API."),
("reasoning", "Is Kafka overkill for our 200 events per minute, or should we just use Postgres LISTEN/NOTIFY?"),
("analysis", "Can this goroutine outlive the request context? Check handlers/stream.go."),
("documentation", "Please produce a markdown table of all the env vars the service reads, with defaults."),
("coding", "Get rid of the global db variable and pass a *sql.DB through the constructors instead."),
("reasoning", "Help me choose a pagination scheme for the public API: offset, cursor or keyset."),
("analysis", "Is the HMAC check in webhook.go done in constant time?"),
("documentation", "Explain the lifecycle of a job in the worker, from enqueue to ack."),
("coding", "Bump the Go version to 1.26 in go.mod and the CI config, and fix whatever breaks."),
("reasoning", "How would you split this service's responsibilities if we had to hand half of it to another team?"),
("analysis", "Tell me why the benchmark got 30% slower between these two commits."),
("documentation", "Write a docstring for every function in utils/strings.py."),
("coding", "Create a CLI subcommand `export` that dumps the projects table as CSV."),
("reasoning", "What are the risks of turning on HTTP/2 for the internal gRPC gateway?"),
("analysis", "Look through the Terraform for anything publicly exposed that shouldn't be."),
("documentation", "Give me an overview of what each package in internal/ is responsible for."),
("coding", "Add input validation to the /users POST handler: email format, name length under 100."),
("reasoning", "Should feature flags live in the database or in a config file checked into the repo?"),
("analysis", "Does the migration lock the table for long on a 50M row table?"),
("documentation", "Comment the state machine transitions in order/state.go."),
("coding", "Implement graceful degradation: when the recommendations service times out, return the cached list."),
("reasoning", "Estimate how much RAM we need for the in-memory index of 30M user ids, and whether a bitmap would be better."),
("analysis", "Why does go vet complain about a copied lock in this file?"),
("documentation", "Write the migration guide from v1 to v2 of our SDK for users."),
("coding", "yes, do it"),
("reasoning", "Think about whether retries belong in the client library or in the service mesh, and recommend one."),
("analysis", "Verify the pagination code never returns duplicates when rows are inserted during iteration."),
("documentation", "Summarize this PR for the reviewers in a few bullet points."),
("coding", "Refactor the 300-line ProcessOrder into smaller functions without changing behaviour."),
("reasoning", "Which queueing discipline should the scheduler use so that short jobs aren't stuck behind long ones?"),
("analysis", "Is there any path where the file handle isn't closed in loader.go?"),
("documentation", "Write a short paragraph describing the caching layer for the architecture doc."),
("coding", "Write a property-based test for the merge function using rapid."),
("reasoning", "Is it a good idea to run the migrations automatically at startup in production?"),
("analysis", "Find out whether the slow endpoint is CPU-bound or waiting on the database, using the trace in the tool output."),
("documentation", "What does the Backoff type in retry.go do, and how is it configured?"),
]

# agent-fresh2: written after the rules were frozen again (after tuning on
# agent-fresh); measured once, never tuned on.
FRESH2 = [
("coding", "Introduce a Clock interface in the scheduler so tests can control time."),
("reasoning", "If we move sessions to JWTs, how do we handle revocation? Walk through the options."),
("analysis", "The nightly export job failed with 'too many open files'. Figure out where the descriptors leak."),
("documentation", "Describe the data flow from the webhook to the database for the design review."),
("coding", "Add a health check endpoint that pings the database and the cache."),
("reasoning", "Single table or one table per tenant for the analytics events? Consider 2k tenants."),
("analysis", "Is the JSON decoder here vulnerable to huge payloads?"),
("documentation", "Write inline comments for the tricky parts of the diff algorithm."),
("coding", "Translate the Python data-cleaning script to TypeScript for the frontend."),
("reasoning", "What's the right trade-off between batch size and latency for the ingestion pipeline?"),
("analysis", "Review the concurrency in the fan-out code and flag anything unsafe."),
("documentation", "Write a how-to for rotating the API keys."),
("coding", "continue with the remaining two files"),
("reasoning", "Should the mobile app talk to the microservices directly or through a BFF?"),
("analysis", "Check the query plan output in the tool results and tell me why the index is skipped."),
("documentation", "Explain what the generics in collections.go are doing, in simple terms."),
("coding", "Make the logger configurable via LOG_LEVEL and default to info."),
("reasoning", "Decide how we should shard the cache keys so resharding doesn't invalidate everything."),
("analysis", "Do the retries in the HTTP client respect the context deadline?"),
("documentation", "Write the FAQ entry for 'why is my build slow'."),
("coding", "Rewrite the recursive directory walk iteratively to avoid stack overflows."),
("reasoning", "Is CRDT-based sync worth the complexity for our note-taking app's offline mode?"),
("analysis", "What in this stack trace points to the actual bug?"),
("documentation", "Generate the man page for the tool from the flag definitions."),
("coding", "Fix the flaky test by waiting on the channel instead of sleeping."),
("reasoning", "Work out a capacity plan for Black Friday: we expect 8x normal traffic."),
("analysis", "Audit the permissions the service account has and flag any that are broader than needed."),
("documentation", "Document the error codes the API returns and when."),
("coding", "Support reading the config from stdin when the path is '-'."),
("reasoning", "How should we model permissions: RBAC, ABAC, or something simpler for now?"),
("analysis", "Look at the goroutine dump and tell me which lock everyone is waiting on."),
("documentation", "Summarize the changes since v3.1 for the changelog."),
("coding", "Add a retry decorator to the Python client with jitter."),
("reasoning", "Compare gRPC streaming and WebSockets for the live dashboard."),
("analysis", "Why would this function return nil without an error?"),
("documentation", "Tell me how the plugin loader discovers plugins."),
("coding", "Move the SQL strings into a queries package and use embed for the files."),
("reasoning", "What would you prioritise first: the flaky tests, the slow build, or the missing docs? Justify it."),
("analysis", "Scan the handlers for missing authorization checks."),
("documentation", "Write a README for the examples directory explaining each example."),
]

# agent-fresh3: written after the rules were frozen a third time (after
# tuning on agent-fresh2); measured once, never tuned on.
FRESH3 = [
("coding", "Split the giant utils.go into smaller files by topic and fix the imports."),
("reasoning", "Our Postgres is at 80% CPU. Read replicas, caching, or a bigger instance: where would you start?"),
("analysis", "Users report duplicate emails after the deploy. Check the mailer for double sends."),
("documentation", "Draft the section of the handbook that explains our branching model."),
("coding", "Add a --json output option to the status command."),
("reasoning", "Is it reasonable to keep business logic in stored procedures for this project?"),
("analysis", "Go through the PR and point out anything that could break existing clients."),
("documentation", "Write JSDoc for the exported hooks in src/hooks."),
("coding", "Replace moment.js with date-fns across the frontend."),
("reasoning", "Which is better for our search: Elasticsearch, Meilisearch, or Postgres full-text? We have 2M documents."),
("analysis", "Why is the container image 1.2 GB? Look at the Dockerfile layers."),
("documentation", "Explain the difference between the two config loaders and when each one is used."),
("coding", "Implement rate limiting per API key using the token bucket in pkg/limit."),
("reasoning", "How do we migrate user passwords from SHA1 to argon2 without forcing everyone to reset?"),
("analysis", "Is the signal handler in main.go racy?"),
("documentation", "Add a usage section with examples to the CLI's README."),
("coding", "Make the importer idempotent so running it twice doesn't duplicate rows."),
("reasoning", "Think through what breaks if we switch the job queue from at-least-once to at-most-once."),
("analysis", "Which of these endpoints is missing input validation?"),
("documentation", "Write a one-page summary of the incident for the postmortem."),
("coding", "Generate TypeScript types from the OpenAPI spec and use them in the API client."),
("reasoning", "Given the budget, should we self-host the models or use a managed GPU cluster?"),
("analysis", "Measure where the startup time goes; it takes 4 seconds before the first request."),
("documentation", "Document how to run the integration tests locally, including the docker compose setup."),
("coding", "ok go ahead"),
("reasoning", "Propose an approach for multi-region failover of the API with an RPO under a minute."),
("analysis", "The CPU profile is in the tool output. What's hot?"),
("documentation", "Rewrite the package docs so they read well on pkg.go.dev."),
("coding", "Add a CHECK constraint so quantity can't go negative and a test for it."),
("reasoning", "Would a read-through cache or write-through cache suit the pricing service better?"),
("analysis", "Does the batch job handle a partial failure in the middle of a chunk?"),
("documentation", "Tell me what each field of the Settings struct controls."),
("coding", "Port the tests from mocha to vitest."),
("reasoning", "We have three weeks. Rewrite the billing module or patch it? Lay out the risks of each."),
("analysis", "Check the regex in sanitize.js for catastrophic backtracking."),
("documentation", "Write a glossary of the domain terms used in the codebase."),
("coding", "Wire up the new metrics to the Grafana dashboard JSON in deploy/."),
("reasoning", "What's a good strategy for versioning the database schema alongside the app releases?"),
("analysis", "Spot the memory leak in the image cache; RSS grows by 50 MB an hour."),
("documentation", "Describe the threading model of the server in the architecture notes."),
]

# agent-fresh4: written after agent-fresh3 was measured and before any rule
# change of that round (2026-11-30), labelled by what the user asks for
# before the classifier saw them; measured once, never tuned on. Some use
# shapes the earlier splits lack (conv4: opencode with JSON tool schemas,
# Continue with pasted code, Claude Code with <system-reminder> blocks,
# several earlier turns of another task).
FRESH4 = [
("coding", "Add a `--since` flag to the log command that filters entries by timestamp; accept a duration like 2h or an RFC3339 time."),
("reasoning", "We're deciding whether the frontend should call the search service directly or go through the API. What would you recommend, and why?"),
("analysis", "The orders endpoint returns a 500 about once an hour. The logs are in the tool output; what's causing it?"),
("documentation", "Write a README for this repo: what it is, how to install it, a quick start and the configuration options."),
("coding", "The linter complains about unused parameters in handlers/admin.go. Clean those up."),
("reasoning", "Is it better to keep one big protobuf file or split it per service? Nine services share most of the types."),
("analysis", "Check whether the JWT validation accepts tokens with alg set to none."),
("documentation", "Add GoDoc comments to the exported types in internal/queue."),
("coding", "Write a Dockerfile for the api service: multi-stage build, distroless final image."),
("reasoning", "What's the cleanest way to model undo/redo in the editor? I'm weighing the command pattern against snapshots."),
("analysis", "Review src/payments/refund.ts and tell me what could go wrong."),
("documentation", "Explain in a few sentences what reconcileOrphans does."),
("coding", "Turn the retry count from a constant into a config option and thread it through to the client."),
("reasoning", "How would you design idempotency keys for the payments API?"),
("analysis", "Why did the allocation count in the benchmark jump after the last commit?"),
("documentation", "Draft the PR description for these changes."),
("coding", "Can you make UserService.list return an iterator instead of loading everything into a slice?"),
("reasoning", "Should webhook redelivery be driven by a cron sweep or by a delay queue?"),
("analysis", "Is there an N+1 query problem in the dashboard loader?"),
("documentation", "Write a troubleshooting section for the docs covering the three most common startup errors."),
("coding", "Add table-driven tests for the slugify function, including unicode input."),
("reasoning", "We need to support ten times more tenants next year. What would you change in the architecture first?"),
("analysis", "Read through the reconnect logic and tell me whether it can spin in a tight loop."),
("documentation", "Document the message format on the events topic with an example payload."),
("coding", "Hook up the cancel button so it aborts the upload in flight."),
("reasoning", "Bitset or sorted int slice for the permission checks, if most users hold fewer than 20 permissions?"),
("analysis", "What's the time complexity of the dedupe function as it's written now?"),
("documentation", "What does the middleware chain in router.go do, in order?"),
("coding", "Replace the string concatenation in the SQL builder with parameterized queries."),
("reasoning", "Talk me through the pros and cons of server-side rendering for our admin dashboard."),
("analysis", "The deploy went through but the new pods never become ready. What do the events in the tool output say?"),
("documentation", "Write a CONTRIBUTING.md: setting up the dev environment and running the checks."),
("coding", "fix the type errors tsc reports in src/api/client.ts"),
("reasoning", "If we hash a million ids into 32-bit buckets, how many collisions should we expect? Is that acceptable for a dedupe key?"),
("analysis", "Does anything in this change break backwards compatibility of the config file?"),
("documentation", "Put a comment above the retry loop explaining why we cap it at three attempts."),
("coding", "Add a pre-commit config that runs black and ruff on staged files."),
("reasoning", "I can't decide whether the new feature belongs in the existing CLI or in a separate tool. Help me think it through."),
("analysis", "Find every place where user input ends up in a shell command."),
("documentation", "Write release notes for 1.8: the new export command, faster startup, and the removed --legacy flag."),
("coding", "Implement Close on the connection pool so it drains idle connections and waits for the active ones."),
("reasoning", "What approach would you take to get the test suite back under five minutes?"),
("analysis", "How come this test passes locally but fails inside Docker?"),
("documentation", "Give me a walkthrough of how a request travels through the gateway, for the wiki."),
("coding", "sounds good, let's implement option B"),
("reasoning", "Can we get away without a message broker here, or will we regret it in a year?"),
("analysis", "Check the lockfile diff for suspicious new dependencies."),
("documentation", "Write Google-style docstrings for the functions in io_utils.py."),
("coding", "Convert the class components in src/components/legacy to function components with hooks."),
("reasoning", "How should errors be represented across the Go/TypeScript boundary so both sides can handle them well?"),
("analysis", "Is the cache key in fetchProfile missing a parameter that changes the result?"),
("documentation", "Summarize what changed in this branch compared to main."),
("coding", "Add an index on orders(customer_id, created_at) in a new migration."),
("reasoning", "Pick a strategy for warming the cache after deploys and justify it."),
("analysis", "Look at the flame graph numbers and tell me whether JSON encoding is really the bottleneck."),
("documentation", "Describe each column of the users table in the schema docs."),
("coding", "Write a small script that prunes Docker images older than 30 days."),
("reasoning", "In principle, is a lock-free queue worth it here, or would a mutex be simpler and fast enough? Nothing is written yet."),
("analysis", "Are the CLI's error messages leaking file paths or secrets?"),
("documentation", "Write the commit message for this fix."),
("coding", "Make the HTTP server read its TLS certificate and key paths from the environment."),
("reasoning", "Come up with a plan for splitting the 400-table schema across two databases."),
("analysis", "Why is make build rebuilding everything every time?"),
("documentation", "How does the auth module decide which provider to use? Explain it to me."),
]

# agent-tune2: tuning rows written after agent-fresh4 was measured (no rule
# had a miss left on the older tuning splits); weighted towards reasoning and
# analysis, the categories the held-out misses fell in.
TUNE2 = [
("reasoning", "We're choosing a serialization format for the event bus. Avro, Protobuf or plain JSON: what fits a team that changes schemas weekly?"),
("reasoning", "How do I guarantee exactly-once processing when the consumer can crash after writing to the DB but before committing the offset?"),
("reasoning", "What's the smartest order to tackle these three migrations so we never have two schemas live at once?"),
("reasoning", "If two users edit the same document offline, how should the merge work? I want the concept, not code."),
("reasoning", "Give me a strategy for rolling back a bad schema migration that already ran in production."),
("reasoning", "Would a trie or a hash map be more appropriate for the autocomplete index?"),
("reasoning", "Help me weigh consistency against availability for the inventory counts during a network partition."),
("reasoning", "Is a single global lock acceptable for the config registry, given it's read 10k times a second and written twice a day?"),
("reasoning", "What's the minimum number of replicas we need to survive two zone failures?"),
("reasoning", "Suggest a way to structure the monorepo build so teams don't block each other."),
("reasoning", "Design a rate limiting scheme for a multi-tenant API where big tenants can't starve small ones."),
("reasoning", "Do we really need a separate staging cluster, or can preview environments cover it?"),
("reasoning", "What would you do about the growing pile of feature flags? I need a policy."),
("reasoning", "We must pick a background job library for the Rails app. Sidekiq, GoodJob, or Solid Queue?"),
("reasoning", "Work out how big the connection pool should be for 12 app instances and a Postgres max_connections of 200."),
("reasoning", "How can we make deploys safe when the database and the app change together?"),
("reasoning", "Which caching layer makes the most sense for the catalog pages: CDN, Redis, or in-process?"),
("reasoning", "Where should the boundary between the orders and the inventory service be?"),
("reasoning", "I want to replace our homegrown auth with an identity provider. What should I consider before deciding?"),
("reasoning", "Brainstorm ways to cut our cloud bill by a third without hurting latency."),
("analysis", "Something keeps the database connection open after the request ends. Trace through handlers/report.go and find it."),
("analysis", "Take a look at the retry policy in client.go: could it hammer the server during an outage?"),
("analysis", "The heap dump shows 2 GB of []byte. Where are they coming from?"),
("analysis", "Tell me whether the migration in 0042 is reversible."),
("analysis", "Our search results are stale for up to an hour. Inspect the indexing pipeline and find out why."),
("analysis", "Could the new shutdown code drop in-flight messages?"),
("analysis", "Run through the permission checks in admin/ and tell me which routes anyone can call."),
("analysis", "The app crashes on startup on Windows only. What in the path handling could cause that?"),
("analysis", "How much does the logging middleware add to each request, going by the benchmark output?"),
("analysis", "Check that the CSV parser copes with quoted newlines."),
("analysis", "Is anything in this diff going to slow down the hot loop?"),
("analysis", "What's eating the CPU in the pprof top 10 from the tool output?"),
("analysis", "Go through the error paths in upload.go and see whether any leave temp files behind."),
("analysis", "Which of the goroutines in the dump is the one blocking shutdown?"),
("analysis", "Figure out whether the cache ever evicts anything; memory only goes up."),
("analysis", "Does the serializer preserve field order? The signatures depend on it."),
("documentation", "Write a section in docs/ on how plugin API versions are negotiated."),
("documentation", "Can you explain the lock ordering rules in store.go, for someone new to the code?"),
("documentation", "Produce a text description of the architecture for the README, component by component."),
("documentation", "I need a short description of the scheduler package for the package docs."),
("documentation", "What is the Manager struct responsible for?"),
("documentation", "Add usage examples to the docstring of parse_config."),
("documentation", "Turn the notes from this conversation into a runbook entry for on-call."),
("documentation", "Write a PR description that explains why we moved from polling to webhooks."),
("documentation", "Walk me through what happens in the code when a user clicks checkout."),
("documentation", "Describe the config file format in docs/config.md, with every key."),
("documentation", "What does each code in the error code table mean?"),
("documentation", "Document the assumptions the rate limiter makes about clock skew."),
("coding", "Add retries with jitter to the S3 uploads."),
("coding", "Refactor the switch statement in render.go into a map of handlers."),
("coding", "Write a GitHub Action that publishes the package on tags."),
("coding", "Can you wire the feature flag client into the settings page?"),
("coding", "Make the export run in the background and email the user when it's done."),
("coding", "Port the date helpers to the Temporal API."),
("coding", "Add a unit test that reproduces the bug with empty arrays, then fix it."),
("coding", "now do the same for the PUT handler"),
("coding", "Create the SQL migration for the new invoices table."),
("coding", "Let's add a cache in front of the geocoding calls."),
("coding", "Implement the decision we made: cursor pagination for /v2/items."),
("coding", "Replace all the console.log calls with the structured logger."),
]

# agent-tune3: written after the agent-tune2 rules, measured once as a
# validation split (recorded in accuracy_test.go), then tuned on.
TUNE3 = [
("reasoning", "Our mobile clients poll every 30 seconds. Would server-sent events or push notifications be the better fit?"),
("analysis", "Requests to /export time out after exactly 30 seconds. Where's the limit coming from?"),
("documentation", "Write an explanation of the sync protocol for the design doc appendix."),
("coding", "Add a /metrics endpoint with request counts per route."),
("reasoning", "How would you lay out the tables for a multi-currency wallet?"),
("analysis", "Look over the new caching layer for cases where a user could see another user's data."),
("documentation", "Add a docstring to every public function in the geometry module."),
("coding", "Change the default timeout to 10 seconds and let callers override it."),
("reasoning", "What's a reasonable SLA to promise for the new API, given our current uptime?"),
("analysis", "Was the regression introduced by the ORM upgrade or by our query change? The two EXPLAIN plans are above."),
("documentation", "Summarize the last 20 commits for the weekly update."),
("coding", "Write the Kubernetes manifests for the worker: Deployment, ConfigMap, HPA."),
("reasoning", "Is there a way to avoid the thundering herd when a hot cache entry expires?"),
("analysis", "See if any of the SQL in reports/ builds queries from user input."),
("documentation", "What is the token bucket in limiter.go used for?"),
("coding", "Turn the inline SQL in repo.go into prepared statements."),
("reasoning", "Map out the steps to move our builds from Jenkins to GitHub Actions, with the risks."),
("analysis", "The integration tests hang on the second run. What's left running from the first?"),
("documentation", "Explain the flags of the import command in the README."),
("coding", "Split the Settings screen into two tabs."),
("reasoning", "I'm not sure whether to use an ORM or raw SQL for the reporting service. Thoughts?"),
("analysis", "Is the ordering of the middleware causing the CORS errors?"),
("documentation", "Create a docs page describing the webhook payloads."),
("coding", "Fix the crash when the config file is empty."),
("reasoning", "Decide on a naming convention for the metrics and explain the reasoning."),
("analysis", "Count how many places call the deprecated API and tell me how risky removing it is."),
("documentation", "Give me a plain-language explanation of how sessions expire."),
("coding", "Add a retry to the flaky network call in sync.py, three attempts."),
("reasoning", "Could we use a bloom filter per shard instead of the central index, and what would we lose?"),
("analysis", "Memory climbs steadily on the worker; the pprof heap output is in the last message."),
("documentation", "Rewrite the comments in parser.go so they explain the why, not the what."),
("coding", "Could you generate mocks for the Storage interface with mockery?"),
("reasoning", "Figure out a fair way to split the GPU hours between the three teams."),
("analysis", "Can the timeout in fetchAll ever fire after the result was returned?"),
("documentation", "Describe what each of the Make targets does."),
("coding", "Implement soft delete for comments."),
("reasoning", "Should the CLI config live in XDG directories or next to the project?"),
("analysis", "Find any handler that forgets to close the request body."),
("documentation", "Write the module-level docstring for cli.py."),
("coding", "yes please go ahead"),
("reasoning", "What guarantees do we need from the queue if jobs can be retried on another node?"),
("analysis", "The coverage report says parse.go is 40% covered; which branches are never exercised?"),
("documentation", "How does the build script figure out the version number?"),
("coding", "Drop the Python 3.8 compatibility shims."),
("reasoning", "How do other systems usually handle clock skew in distributed leases, and what fits us?"),
("analysis", "Why would the job run twice at midnight?"),
("documentation", "Write up the steps to reproduce the bug for the issue tracker."),
("coding", "Wrap the database errors with context before returning them."),
]

OPENCODE_TOOLS = ('[{"type":"function","function":{"name":"bash","description":"Executes a bash command. Use it for git, tests, builds; never for reading files.","parameters":{"type":"object","properties":{"command":{"type":"string"},"timeout":{"type":"number"}},"required":["command"]}}},'
 '{"type":"function","function":{"name":"edit","description":"Performs exact string replacements in a file. Fix bugs, refactor, document: every change goes through edit.","parameters":{"type":"object","properties":{"filePath":{"type":"string"},"oldString":{"type":"string"},"newString":{"type":"string"}}}}},'
 '{"type":"function","function":{"name":"read","description":"Reads a file from the local filesystem.","parameters":{"type":"object","properties":{"filePath":{"type":"string"},"offset":{"type":"number"}}}}},'
 '{"type":"function","function":{"name":"todowrite","description":"Plan and track tasks: design, analysis, review and implementation steps.","parameters":{"type":"object","properties":{"todos":{"type":"array"}}}}}]')
SYS_OPENCODE = ("You are opencode, an interactive CLI tool that helps users with software engineering tasks. "
 "IMPORTANT: Refuse to write code that may be used maliciously. Keep responses short; answer in fewer than 4 lines unless asked for detail. "
 "When you run a non-trivial bash command, explain what it does and why. Use the todowrite tool to plan complex tasks. "
 "Do not add comments to code unless asked. Prefer editing existing files.\n<env>\nWorking directory: /home/dev/app\nIs directory a git repo: yes\nPlatform: linux\n</env>\n") * 2 + "\nTools:\n" + OPENCODE_TOOLS
SYS_CONTINUE = "You are an expert programmer. Always write code in the language of the file. When asked about code, answer clearly and concisely."
CONT_CODE = "```src/services/profile.ts\nexport async function fetchProfile(id: string, locale: string) {\n  const key = `profile:${id}`;\n  const hit = await cache.get(key);\n  if (hit) return JSON.parse(hit);\n  const p = await db.profiles.find(id, { locale });\n  await cache.set(key, JSON.stringify(p), 300);\n  return p;\n}\n```\n\n"
REMINDER = ("<system-reminder>\nAs you answer the user's questions, you can use the following context:\n# claudeMd\nCodebase and user instructions are shown below. "
 "Be sure to adhere to these instructions.\n- Run `make lint test` before saying a change is done.\n- Write tests for every bug fix. Document exported names.\n"
 "- Review security-sensitive code carefully; design notes go in docs/adr.\n</system-reminder>\n")
SYS_CLAUDE = ("You are an interactive CLI tool that helps users with software engineering tasks. Use the instructions below and the tools available to you to assist the user.\n"
 "# Doing tasks\nThe user will primarily request you perform software engineering tasks: solving bugs, adding new functionality, refactoring code, explaining code, and more. "
 "Use the TodoWrite tool to plan the task if required. Use the search tools to understand the codebase. Implement the solution using all tools available to you. "
 "Verify the solution with tests. When you have completed a task, run the lint and typecheck commands.\n# Tool usage policy\nBatch independent tool calls.\n") * 3


# agent-tune4: tuning rows written after the agent-tune3 rules (2026-11-30,
# round 4), 15 per category, labelled by what the user asks for; measured
# once before tuning (see accuracy_test.go), then tuned on.
TUNE4 = [
("reasoning", "We have two options for the plugin system: load Go plugins at runtime or run plugins as subprocesses over gRPC. Which is more maintainable long term?"),
("analysis", "The nightly job started taking 3 hours instead of 40 minutes last week. Dig through the recent changes to the batch loader and tell me what slowed it down."),
("documentation", "Can you write a short explanation of our retry policy that I can paste into the runbook?"),
("coding", "Add input validation to the create-user handler: email must be valid, name at most 100 characters, return 400 with a message otherwise."),
("reasoning", "Is a trie overkill for the autocomplete, or would a sorted array with binary search be enough for 50k entries?"),
("analysis", "Go through auth/session.go and check that every path that creates a session also sets an expiry."),
("documentation", "I need a docs page on how to configure TLS for the gateway, with a sample config."),
("coding", "Replace moment.js with date-fns across the frontend."),
("reasoning", "What would be the downside of making the event IDs UUIDv7 instead of auto-increment integers?"),
("analysis", "Our API sometimes returns stale prices after an update. Trace the cache path and find where the old value survives."),
("documentation", "Write JSDoc for the hooks in src/hooks so the editor shows useful hints."),
("coding", "Make the upload handler stream the file to disk instead of reading it all into memory."),
("reasoning", "Help me think through how to split the work of the rewrite between two developers over six weeks."),
("analysis", "Are we validating the redirect URL after login, or could someone use it for an open redirect?"),
("documentation", "Produce a table of all environment variables the service reads, with defaults and a one-line meaning each."),
("coding", "Get the failing lint job green; it complains about shadowed variables in pkg/sync."),
("reasoning", "I want your opinion: feature flags in the database or in a config file shipped with each release?"),
("analysis", "Which of our dependencies are pulling in the vulnerable version of the yaml library?"),
("documentation", "Explain to me how the worker pool in pool.go decides when to spawn a new worker."),
("coding", "Introduce a Clock interface so the scheduler tests can control time."),
("reasoning", "What is the right granularity for our microservices? We have 3 devs and the split feels too fine."),
("analysis", "The build takes 12 minutes. Look at the Dockerfile and CI config and tell me which steps waste the most time."),
("documentation", "Update the docstrings in models.py; several still describe parameters that were removed."),
("coding", "Write a migration that adds a nullable archived_at column to projects and backfills it from the status column."),
("reasoning", "Compare rendering the charts server-side as PNG versus client-side with a JS library for our reporting page."),
("analysis", "Could the two goroutines in the pipeline ever block each other when the output channel is full?"),
("documentation", "Add a section to the README explaining how to run the integration tests against a local database."),
("coding", "Support gzip-compressed request bodies in the ingest endpoint."),
("reasoning", "Should retries live in the client library or in a sidecar proxy? Weigh it for a polyglot stack."),
("analysis", "There's a 2% error rate on checkout since Monday. The traces are in the previous tool output; what do they point to?"),
("documentation", "Give a newcomer-friendly walkthrough of what happens between a user clicking Pay and the order showing as paid."),
("coding", "Refactor the giant switch in dispatcher.go into a map of handlers."),
("reasoning", "How should we structure the permissions model so org admins can delegate rights without becoming super admins?"),
("analysis", "Review my last commit; I'm not sure the error handling in the new importer is right."),
("documentation", "Write a commit message summarizing the changes we just made to the billing module."),
("coding", "Please add a health check endpoint that pings the database and the cache."),
("reasoning", "Would you pick Kafka or NATS for the notification fan-out, given we need at-least-once delivery and run on three small VMs?"),
("analysis", "Find out why the integration test for the mailer passes locally but fails in the container."),
("documentation", "Describe the data flow of the sync service in a few paragraphs for the architecture doc."),
("coding", "Make the CLI print a friendly error instead of a stack trace when the config file is missing."),
("reasoning", "What's a good strategy for handling schema changes in the mobile app's offline database across versions?"),
("analysis", "Is the password hashing in users/hash.go using a strong enough work factor?"),
("documentation", "Write a migration guide for users upgrading from v2 to v3 of the SDK."),
("coding", "Implement a LRU eviction for the in-memory cache with a configurable size."),
("reasoning", "Think about whether we even need a queue here, or whether a simple retry table in Postgres would do."),
("analysis", "Look at the flame graph I attached and tell me what dominates CPU time."),
("documentation", "Summarize what changed in the public API between v1.8 and v1.9 for the changelog."),
("coding", "Add a Makefile target that runs the linters and the tests in one go."),
("reasoning", "We have to choose a license for the open-source release. MIT or Apache 2.0, considering the patent clause?"),
("analysis", "Check the new Terraform module for resources that are publicly exposed by mistake."),
("documentation", "Explain what the feature-flag evaluator returns when a flag is missing, in the doc comment of Evaluate."),
("coding", "Write an integration test that starts the server and checks the login flow end to end."),
("reasoning", "How do we decide the retention period for the audit logs? Legal wants long, ops wants short."),
("analysis", "Does the rate limiter reset correctly when the window rolls over at midnight UTC?"),
("documentation", "Write a short tutorial showing how to add a new command to the CLI."),
("coding", "Bump the Go version to 1.23 and fix whatever breaks."),
("reasoning", "Plan the order in which we should deprecate the old endpoints so no client breaks."),
("analysis", "Spot any places in the React code where we set state after the component unmounts."),
("documentation", "What does the backoff parameter in the client options control? Put the answer in the options doc."),
("coding", "Let the user choose the output format with --format json or --format table."),
]

# agent-fresh5: written after the agent-tune4 rules were frozen and committed
# (2026-11-30), 16 per category, labelled by what the user asks for without
# running the classifier on them; measured once, never tuned on.
FRESH5 = [
("coding", "Add a rate limit of 100 requests per minute per API key to the public endpoints."),
("reasoning", "For the search feature, would you index in Elasticsearch or just use Postgres full-text search? We have about 2 million rows."),
("analysis", "The websocket connections drop every 60 seconds in production but not locally. What's closing them?"),
("documentation", "Write a docstring for the merge_intervals function explaining the input format and what it returns."),
("coding", "Move the database credentials out of settings.py into environment variables."),
("reasoning", "What's the best way to structure the frontend state now that the app has grown to 40 screens? Redux, context, or something else?"),
("analysis", "Review the diff of the auth middleware and tell me if anything could let an unauthenticated request through."),
("documentation", "Explain what the Reconciler struct is responsible for and how it interacts with the queue."),
("coding", "Write a script that exports all the users created last month to a CSV file."),
("reasoning", "We need to decide how long to keep soft-deleted records before purging them. What factors matter and what would you pick?"),
("analysis", "Is the file lock in storage/lock.go released if the process panics?"),
("documentation", "Add a usage section to the README with examples for the three most common commands."),
("coding", "Fix the bug where the date picker shows the wrong month in timezones west of UTC."),
("reasoning", "Should the mobile app talk to our backend through GraphQL or keep the REST endpoints?"),
("analysis", "Our Postgres CPU is at 90% most of the day. Here is the pg_stat_statements output; which queries are the problem?"),
("documentation", "Write a summary of this PR for the reviewers: what changed and why."),
("coding", "Add a loading spinner to the dashboard while the charts fetch their data."),
("reasoning", "How would you design the retry and dead-letter handling for the order events so nothing gets lost?"),
("analysis", "Check the Helm chart for containers running as root or without resource limits."),
("documentation", "Document the public methods of the EventBus class with examples."),
("coding", "Refactor the payment service to use dependency injection so we can test it without Stripe."),
("reasoning", "Is it a good idea to put the feature flag checks in the API gateway, or should each service own them?"),
("analysis", "Why does go test -race report a data race in the metrics collector?"),
("documentation", "Explain how the caching layer decides when an entry is stale."),
("coding", "Implement the missing delete endpoint for the comments resource, with tests."),
("reasoning", "We have a tight deadline. Which of these three tech-debt items should we tackle before launch, if any?"),
("analysis", "Look at the access logs in the last tool output and tell me whether someone is scraping us."),
("documentation", "Write a section in the architecture doc about how tenants are isolated."),
("coding", "Change the export so it writes Parquet instead of JSON."),
("reasoning", "Pick a good approach for versioning the ML models we ship with the app, and tell me why."),
("analysis", "Is there any code path where the transaction is committed twice?"),
("documentation", "I need release notes for 3.2 covering the new search filters and the removed legacy endpoints."),
("coding", "Add a --json flag to the status command that prints machine-readable output."),
("reasoning", "How should the notification service behave when the email provider is down for hours?"),
("analysis", "The benchmark shows 3x more allocations in the new encoder. Find where they come from."),
("documentation", "What is the purpose of the shadow table in the migration scripts?"),
("coding", "Convert the class components in src/legacy to function components with hooks."),
("reasoning", "What would a sensible on-call rotation look like for a team of five across two time zones?"),
("analysis", "Can you check if the CSV parser handles quoted fields with embedded newlines correctly?"),
("documentation", "Write inline comments for the bit-packing logic in encode.c so the next person understands it."),
("coding", "Cache the results of the exchange rate lookup for ten minutes."),
("reasoning", "Monolithic SQL migrations or many small ones per feature? Our team keeps disagreeing."),
("analysis", "The app crashes on startup on Android 12 only. The logcat excerpt is above; what's going on?"),
("documentation", "Describe the lifecycle of a job in the scheduler, from enqueue to completion, for the wiki."),
("coding", "Make the list view remember the scroll position when navigating back."),
("reasoning", "Think through how we could support offline edits and merge them when the device reconnects."),
("analysis", "Go through the new endpoints and list any that don't check the user's permissions."),
("documentation", "Summarize how the plugin loader finds and initializes plugins."),
("coding", "Write a GitHub Actions workflow that runs the tests on every pull request."),
("reasoning", "Given 200 GB of logs a day, how much storage do we need for 90 days of retention with compression?"),
("analysis", "Which of the tests in the suite are slowest, and why? The timing output is in the tool result."),
("documentation", "Create a getting-started guide for contributors who have never used Bazel."),
("coding", "Handle the case where the API returns an empty list; right now the page shows undefined."),
("reasoning", "What's the trade-off between storing timestamps as UTC strings versus epoch milliseconds for our analytics?"),
("analysis", "Does the uploader verify the checksum before marking a file as complete?"),
("documentation", "Write the help text for the new prune command."),
("coding", "Upgrade the project from Python 3.9 to 3.12 and fix the deprecation warnings."),
("reasoning", "If we move to a multi-tenant database, how do we keep one noisy customer from slowing everyone else?"),
("analysis", "Tell me what's wrong with the way we handle errors in the batch importer; failures seem to disappear."),
("documentation", "Explain to the product team, in non-technical terms, why the sync can take up to five minutes."),
("coding", "Add an index on orders.customer_id in a new migration."),
("reasoning", "Should we build the admin panel ourselves or use an off-the-shelf tool? Consider cost and maintenance."),
("analysis", "Audit the logging calls for places where we might write personal data to the logs."),
("documentation", "Give me an overview of the modules in this repo and how they depend on each other."),
]

def conv4(i, cat, text):
    """Fresh4 shapes: the older ones, and opencode, Continue, Claude Code
    and a longer multi-turn session."""
    s = i % 9
    if s < 6:
        return conv(i, cat, text)
    prev1 = TASKS[(i + 11) % len(TASKS)][1]
    prev2 = TASKS[(i + 53) % len(TASKS)][1]
    if s == 6:
        return [{"role": "system", "content": SYS_OPENCODE}, {"role": "user", "content": prev1},
                {"role": "assistant", "content": "I'll start by reading the relevant files."},
                {"role": "tool", "content": "package main\n\nfunc main() {\n\trun()\n}\n"},
                {"role": "assistant", "content": "Done: the change is in place and go test passes."},
                {"role": "user", "content": text}], True
    if s == 7:
        return [{"role": "system", "content": SYS_CONTINUE},
                {"role": "user", "content": CONT_CODE + text}], False
    return [{"role": "system", "content": SYS_CLAUDE},
            {"role": "user", "content": REMINDER + prev1},
            {"role": "assistant", "content": "I've made that change; the tests pass."},
            {"role": "user", "content": prev2},
            {"role": "assistant", "content": "Here is what I found, in three points."},
            {"role": "tool", "content": TOOLOUT},
            {"role": "user", "content": REMINDER + text}], True


SYS_CLI = ("You are an interactive command-line agent for software engineering tasks. You help users fix bugs, add features, "
 "refactor code, explain code, review changes for security and performance, design systems and write documentation and tests. "
 "# Tone\nBe concise. Should you be unsure, ask. Think step by step before large changes, and prefer small diffs.\n"
 "# Conventions\nFollow the project's style. Never commit unless asked. Check whether a library is used before adding it. "
 "Why and how questions get answers, not edits.\n# Tools\nUse the read, edit, bash, grep and glob tools. Run the tests after edits.\n") * 3
SYS_CLINE = ("You are a highly skilled software engineer with extensive knowledge in many programming languages, frameworks, design patterns, and best practices.\n"
 "TOOL USE\nYou have access to tools that are executed upon the user's approval: read_file, write_to_file, replace_in_file, search_files, execute_command, attempt_completion.\n"
 "RULES\n- Review the environment_details before acting.\n- Analyze the task and set clear goals.\n- Do not ask unnecessary questions.\n") * 4
SYS_AIDER = ("Act as an expert software developer. Always use best practices when coding. Respect and use existing conventions, libraries, etc that are already present in the code base.\n"
 "Take requests for changes to the supplied code. If the request is ambiguous, ask questions.\n"
 "Once you understand the request you MUST: 1. Decide if you need to propose edits. 2. Think step-by-step and explain the needed changes in a few short sentences. 3. Describe each change with a SEARCH/REPLACE block.\n")
SYS_CODEX = "You are a coding agent running in a terminal on the user's computer. Keep going until the query is completely resolved. " * 6
ENV = "<environment_details>\n# VSCode Visible Files\nsrc/server/handler.go\n\n# VSCode Open Tabs\nsrc/server/handler.go\nREADME.md\n\n# Current Time\n11/30/2026, 9:14:02 AM (UTC)\n\n# Current Working Directory (/home/dev/repo) Files\ncmd/\ninternal/\ndocs/\nMakefile\n</environment_details>"
CODE = "internal/cache/cache.go\n```go\npackage cache\n\n// Get returns the value or an error.\nfunc (c *Cache) Get(k string) (string, error) {\n\tc.mu.Lock()\n\tdefer c.mu.Unlock()\n\tv, ok := c.m[k]\n\tif !ok {\n\t\treturn \"\", fmt.Errorf(\"missing %s: review the design\", k)\n\t}\n\treturn v, nil\n}\n```\n"
TOOLOUT = "--- FAIL: TestUpload (0.31s)\npanic: runtime error: invalid memory address or nil pointer dereference\ngoroutine 17 [running]:\nmain.(*Hub).run(0xc000124000)\n\t/repo/hub.go:88 +0x1a4\nwhy: security review pending, documentation missing\nexit status 2"

def conv(i, cat, text):
    prev = TASKS[(i + 37) % len(TASKS)][1]
    s = i % 6
    if s == 0:
        return [{"role": "system", "content": SYS_CLI}, {"role": "user", "content": text}], True
    if s == 1:
        return [{"role": "system", "content": SYS_CLINE}, {"role": "user", "content": "<task>\n" + text + "\n</task>\n\n" + ENV}], True
    if s == 2:
        return [{"role": "system", "content": SYS_AIDER},
                {"role": "user", "content": "I have *added these files to the chat* so you can go ahead and edit them.\n\n" + CODE},
                {"role": "assistant", "content": "Ok, any changes I propose will be to those files."},
                {"role": "user", "content": text}], False
    if s == 3:
        return [{"role": "system", "content": SYS_CLI}, {"role": "user", "content": prev},
                {"role": "assistant", "content": "Done. I changed two files and the tests pass."},
                {"role": "tool", "content": TOOLOUT},
                {"role": "user", "content": text}], True
    if s == 4:
        return [{"role": "system", "content": SYS_CODEX}, {"role": "developer", "content": "Approval policy: on-request. Sandbox: workspace-write."},
                {"role": "user", "content": "<environment_context>\n  <cwd>/home/dev/repo</cwd>\n  <shell>bash</shell>\n</environment_context>"},
                {"role": "user", "content": text}], True
    return [{"role": "system", "content": SYS_CLI}, {"role": "user", "content": text},
            {"role": "assistant", "content": "Let me look at the code first."},
            {"role": "tool", "content": TOOLOUT},
            {"role": "user", "content": "<function_results>\n" + TOOLOUT + "\n</function_results>"}], True


def main():
    keep = [l for l in open("labelled.jsonl") if l.strip() and not json.loads(l).get("agent")]
    rows = []
    for i, (cat, text) in enumerate(TASKS):
        msgs, tools = conv(i, cat, text)
        split = "agent-heldout" if i % 10 in (2, 5, 8) else "agent-tune"
        rows.append({"category": cat, "split": split, "agent": True, "tools": tools, "messages": msgs})
    for i, (cat, text) in enumerate(FRESH):
        msgs, tools = conv(i + 3, cat, text)
        rows.append({"category": cat, "split": "agent-fresh", "agent": True, "tools": tools, "messages": msgs})
    for i, (cat, text) in enumerate(FRESH2):
        msgs, tools = conv(i + 1, cat, text)
        rows.append({"category": cat, "split": "agent-fresh2", "agent": True, "tools": tools, "messages": msgs})
    for i, (cat, text) in enumerate(FRESH3):
        msgs, tools = conv(i + 5, cat, text)
        rows.append({"category": cat, "split": "agent-fresh3", "agent": True, "tools": tools, "messages": msgs})
    for i, (cat, text) in enumerate(FRESH4):
        msgs, tools = conv4(i, cat, text)
        rows.append({"category": cat, "split": "agent-fresh4", "agent": True, "tools": tools, "messages": msgs})
    for i, (cat, text) in enumerate(TUNE2):
        msgs, tools = conv4(i + 4, cat, text)
        rows.append({"category": cat, "split": "agent-tune2", "agent": True, "tools": tools, "messages": msgs})
    for i, (cat, text) in enumerate(TUNE3):
        msgs, tools = conv4(i + 2, cat, text)
        rows.append({"category": cat, "split": "agent-tune3", "agent": True, "tools": tools, "messages": msgs})
    for i, (cat, text) in enumerate(TUNE4):
        msgs, tools = conv4(i + 7, cat, text)
        rows.append({"category": cat, "split": "agent-tune4", "agent": True, "tools": tools, "messages": msgs})
    for i, (cat, text) in enumerate(FRESH5):
        msgs, tools = conv4(i + 3, cat, text)
        rows.append({"category": cat, "split": "agent-fresh5", "agent": True, "tools": tools, "messages": msgs})
    with open("labelled.jsonl", "w") as f:
        f.writelines(keep)
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
