// A third party's scenario in TypeScript, over the types openapi-typescript generates from the
// served document (./schema.d.ts, written by the test) and the openapi-fetch client. It must
// compile with `tsc --strict` without casts; the test then runs it against a live server:
//   node scenario.js BASE_URL   (emails and password in SRO_* environment variables)
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];
type Api = ReturnType<typeof createClient<paths>>;

const GROUP_KEYS = ["category", "school", "school_level", "officer", "month", "outcome", "referral_to"];

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function env(name: string): string {
  const value = process.env[name];
  check(value !== undefined, `${name} is not set`);
  return value;
}

async function signIn(baseUrl: string, email: string): Promise<Api> {
  const anonymous = createClient<paths>({ baseUrl });
  const { data, error } = await anonymous.POST("/api/v1/auth/login", {
    body: { email, password: env("SRO_PASSWORD") },
  });
  check(data !== undefined, `login failed: ${JSON.stringify(error)}`);
  const tokenType: "Bearer" = data.token_type;
  return createClient<paths>({
    baseUrl,
    headers: { Authorization: `${tokenType} ${data.access_token}` },
  });
}

async function create(officer: Api, schoolId: number, minutes: number): Promise<Schemas["Activity"]> {
  const body: Schemas["ActivityCreate"] = {
    school_id: schoolId,
    category: "education",
    started_at: new Date(Date.now() - minutes * 3600_000).toISOString(),
    duration_minutes: minutes,
    audience: ["students"],
    participant_count: 12,
    summary: "Assembly on online safety",
  };
  const { data, response } = await officer.POST("/api/v1/activities", { body });
  check(data !== undefined && response.status === 201, `create: ${response.status}`);
  check(response.headers.get("ETag") === `"${data.version}"`, "create: ETag");
  return data;
}

async function listAll(officer: Api): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query: { limit: number; cursor?: string } = { limit: 2 };
    if (cursor !== null) query.cursor = cursor;
    const { data } = await officer.GET("/api/v1/activities", { params: { query } });
    check(data !== undefined, "list failed");
    ids.push(...data.items.map((item) => item.id));
    cursor = data.next_cursor;
  } while (cursor !== null);
  return ids;
}

async function patchOneField(officer: Api, activity: Schemas["Activity"]): Promise<void> {
  const path = { activity_id: activity.id };
  const read = await officer.GET("/api/v1/activities/{activity_id}", { params: { path } });
  const etag = read.response.headers.get("ETag");
  check(etag !== null, "no ETag");
  const change: Schemas["ActivityUpdate"] = { duration_minutes: 35 };
  const { data } = await officer.PATCH("/api/v1/activities/{activity_id}", {
    params: { path, header: { "If-Match": etag } },
    body: change,
  });
  check(data !== undefined, "patch failed");
  check(data.version === activity.version + 1, "version");
  check(data.duration_minutes === 35 && data.participant_count === 12, "only one field changed");
  check(data.summary === "Assembly on online safety", "summary kept");
  const stale = await officer.PATCH("/api/v1/activities/{activity_id}", {
    params: { path, header: { "If-Match": etag } },
    body: { participant_count: 3 },
  });
  check(stale.error !== undefined && stale.error.error.code === "precondition_failed", "412");
}

async function push(officer: Api, schoolId: number, edit: Schemas["Activity"]): Promise<string> {
  const newId = crypto.randomUUID();
  const mutations: Schemas["Mutation"][] = [
    {
      mutation_id: crypto.randomUUID(),
      op: "upsert",
      activity_id: newId,
      data: {
        school_id: schoolId,
        category: "mediation",
        started_at: new Date().toISOString(),
        duration_minutes: 45,
        outcome: "none",
      },
    },
    {
      mutation_id: crypto.randomUUID(),
      op: "upsert",
      activity_id: edit.id,
      base_version: edit.version,
      data: { participant_count: 30 },
    },
  ];
  const { data } = await officer.POST("/api/v1/sync/push", {
    body: { device_id: crypto.randomUUID(), mutations },
  });
  check(data !== undefined, "push failed");
  for (const result of data.results) check(result.status === "applied", JSON.stringify(result));
  return newId;
}

async function pullAll(client: Api, since?: string): Promise<[Set<string>, string]> {
  let ids = new Set<string>();
  let cursor = since;
  for (;;) {
    const query: { limit: number; since?: string } = { limit: 2 };
    if (cursor !== undefined) query.since = cursor;
    const { data } = await client.GET("/api/v1/sync/pull", { params: { query } });
    check(data !== undefined, "pull failed");
    if ("reset" in data) {
      ids = new Set();
      cursor = undefined;
      continue;
    }
    for (const change of data.changes) {
      if ("deleted" in change) ids.delete(change.id);
      else ids.add(change.id);
    }
    const next = data.cursor;
    if (!data.has_more) return [ids, next];
    cursor = next;
  }
}

async function reset(admin: Api, leader: Api): Promise<void> {
  const [ids, cursor] = await pullAll(leader);
  const me = await leader.GET("/api/v1/me");
  check(me.data !== undefined, "me");
  const schoolIds = [...me.data.school_ids, Number(env("SRO_OTHER_SCHOOL"))];
  const changed = await admin.PATCH("/api/v1/users/{user_id}", {
    params: { path: { user_id: me.data.id } },
    body: { school_ids: schoolIds },
  });
  check(changed.data !== undefined, "update user");
  const answer = await leader.GET("/api/v1/sync/pull", { params: { query: { since: cursor } } });
  check(answer.data !== undefined && "reset" in answer.data, "expected a reset");
  const [again] = await pullAll(leader, cursor);
  check(again.size === ids.size, "the same activities after the reset");
}

async function reports(manager: Api): Promise<void> {
  for (const key of GROUP_KEYS) {
    const { data } = await manager.GET("/api/v1/reports/activity-mix", {
      params: { query: { group_by: key } },
    });
    // This operation also answers text/csv when asked (Accept or format=csv), so its type is
    // a union; activity-mix.csv is the operation for CSV.
    check(data !== undefined && typeof data !== "string", `mix by ${key}`);
    check(data.rows.length > 0, `mix by ${key}: rows`);
    const outcomes: (Schemas["Outcome"] | null | undefined)[] = data.rows.map((row) => row.outcome);
    check(key !== "outcome" || outcomes.includes(null), "null outcomes");
  }
  const csv = await manager.GET("/api/v1/reports/activity-mix.csv", {
    params: { query: { group_by: "category" } },
    parseAs: "text",
  });
  check(csv.data !== undefined && csv.data.startsWith("category,"), "csv");
}

async function surveys(manager: Api, schoolId: number): Promise<void> {
  const day = (offset: number) => new Date(Date.now() + offset * 86400_000).toISOString().slice(0, 10);
  const body: Schemas["RoundCreate"] = {
    title: "Spring climate",
    opens_on: day(-1),
    closes_on: day(30),
    school_ids: [schoolId],
    audiences: ["staff"],
  };
  const { data, response } = await manager.POST("/api/v1/surveys", { body });
  check(data !== undefined && response.headers.get("ETag") === `"${data.version}"`, "round ETag");
  const next: number = data.version + 1;
  const audiences: Schemas["SurveyAudience"][] = data.audiences;
  check(next === 2 && audiences[0] === "staff" && data.status === "open", "round");
  const path = { round_id: data.id };
  const results = await manager.GET("/api/v1/surveys/{round_id}/results", {
    params: { path, query: { group_by: "audience" } },
  });
  // Like activity-mix, this operation also answers text/csv (format=csv): a union.
  check(results.data !== undefined && typeof results.data !== "string", "survey results");
  const grouping: Schemas["SurveyGrouping"] = results.data.group_by;
  check(grouping === "audience" && results.data.responses === 0, "survey results grouping");
  const csv = await manager.GET("/api/v1/surveys/{round_id}/results.csv", {
    params: { path },
    parseAs: "text",
  });
  check(csv.data !== undefined && csv.data.startsWith("item,group,n,"), "survey results csv");
}

async function errors(officer: Api, schoolId: number): Promise<void> {
  const { error, response } = await officer.POST("/api/v1/activities", {
    body: {
      school_id: schoolId,
      category: "counselling",
      started_at: new Date().toISOString(),
      duration_minutes: 0,
      participant_count: 0,
    },
  });
  check(response.status === 422 && error !== undefined, "422 expected");
  const details = error.error.details ?? {};
  check(error.error.code === "validation_error" && "duration_minutes" in details, "error shape");
}

async function main(baseUrl: string): Promise<void> {
  const officer = await signIn(baseUrl, env("SRO_OFFICER"));
  const leader = await signIn(baseUrl, env("SRO_LEADER"));
  const manager = await signIn(baseUrl, env("SRO_MANAGER"));
  const admin = await signIn(baseUrl, env("SRO_ADMIN"));
  const me = await officer.GET("/api/v1/me");
  check(me.data !== undefined, "me");
  const schoolId = me.data.schools[0].id;

  const created = [await create(officer, schoolId, 20), await create(officer, schoolId, 30)];
  const listed = await listAll(officer);
  check(created.every((activity) => listed.includes(activity.id)), "pagination");
  await patchOneField(officer, created[0]);
  const confirmed = await leader.POST("/api/v1/activities/{activity_id}/confirm", {
    params: { path: { activity_id: created[1].id } },
    body: {},
  });
  check(confirmed.data !== undefined && confirmed.data.status === "confirmed", "confirm");
  const newId = await push(officer, schoolId, confirmed.data);
  const [ids] = await pullAll(officer);
  check(ids.has(newId) && created.every((activity) => ids.has(activity.id)), "pull");
  await reset(admin, leader);
  await reports(manager);
  await surveys(manager, schoolId);
  await errors(officer, schoolId);
  console.log("typescript scenario passed");
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
