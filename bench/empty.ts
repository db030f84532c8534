// Intentionally empty: `deno run -A bench/empty.ts` is the baseline that the
// probe's start-up cost is compared with. It lives inside the project so it
// pays the same deno.json and lockfile loading as src/main.ts.
export {};
