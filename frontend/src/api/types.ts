// Friendly names for the API's schema types. Pages import from here, never from
// schema.d.ts directly, so a renamed schema component is fixed in one place.
import type { components } from "./schema";

type Schemas = components["schemas"];

/** Every list endpoint answers with this LimitOffset page. */
export interface Paginated<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** The page of a list that keeps growing (runs, events): its count stops at a limit. */
export interface CappedPage<T> extends Paginated<T> {
  /** There are more than `count` items. */
  count_capped: boolean;
}

// Resources as the API returns them.
export type AlertDelivery = Schemas["AlertDelivery"];
export type AlertEvent = Schemas["AlertEvent"];
export type AlertRule = Schemas["AlertRule"];
export type Attempt = Schemas["Attempt"];
export type Backoff = Schemas["Backoff"];
export type BulkTriggered = Schemas["BulkTriggered"];
export type CallSite = Schemas["CallSite"];
export type Cell = Schemas["Cell"];
export type Column = Schemas["Column"];
export type BlindPair = Schemas["BlindPair"];
export type ColumnReviewSummary = Schemas["ColumnReviewSummary"];
export type ColumnSummary = Schemas["ColumnSummary"];
export type Comparison = Schemas["Comparison"];
export type ComparisonSummary = Schemas["ComparisonSummary"];
export type Cron = Schemas["Cron"];
export type CronDetail = Schemas["CronDetail"];
export type Evaluator = Schemas["Evaluator"];
export type Event = Schemas["Event"];
export type EventDetail = Schemas["EventDetail"];
export type GitHubConnection = Schemas["GitHubConnection"];
export type IssuedToken = Schemas["IssuedToken"];
export type Member = Schemas["Member"];
export type Invitation = Schemas["Invitation"];
export type ReceivedInvitation = Schemas["ReceivedInvitation"];
export type OverrideChange = Schemas["OverrideChange"];
export type Overview = Schemas["Overview"];
export type OverviewBucket = Schemas["OverviewBucket"];
export type PlaygroundRun = Schemas["PlaygroundRun"];
export type PlaygroundRunDetail = Schemas["PlaygroundRunDetail"];
export type PullRequest = Schemas["PullRequest"];
export type PullRequestChange = Schemas["PullRequestChange"];
export type PushedEvent = Schemas["PushedEvent"];
export type PushedEvents = Schemas["PushedEvents"];
export type RateLimit = Schemas["RateLimit"];
export type RecentRun = Schemas["RecentRun"];
export type Retention = Schemas["Retention"];
export type RegisteredWorkflow = Schemas["RegisteredWorkflow"];
export type Review = Schemas["Review"];
export type Row = Schemas["Row"];
export type Run = Schemas["Run"];
export type RunDetail = Schemas["RunDetail"];
export type RunDetailWithWaits = Schemas["RunDetailWithWaits"];
export type ChildRun = Schemas["ChildRun"];
export type ChildrenSummary = Schemas["ChildrenSummary"];
export type DurableWait = Schemas["DurableWait"];
export type ParentLink = Schemas["ParentLink"];
export type BulkCancelled = Schemas["BulkCancelled"];
export type BulkReplayed = Schemas["BulkReplayed"];
export type Score = Schemas["Score"];
export type Schedule = Schemas["Schedule"];
export type Threshold = Schemas["Threshold"];
export type Session = Schemas["Session"];
export type SessionMembership = Schemas["SessionMembership"];
export type SessionTenant = Schemas["SessionTenant"];
export type StartedRun = Schemas["StartedRun"];
export type Step = Schemas["Step"];
export type StepOutputDiff = Schemas["StepOutputDiff"];
export type StepRun = Schemas["StepRun"];
export type StepRunLine = Schemas["StepRunLine"];
export type StreamPage = Schemas["StreamPage"];
export type Token = Schemas["Token"];
export type TriggeredRun = Schemas["TriggeredRun"];
export type Triggers = Schemas["Triggers"];
export type Usage = Schemas["Usage"];
export type User = Schemas["User"];
export type Variable = Schemas["Variable"];
export type VariableDefault = Schemas["VariableDefault"];
export type Variant = Schemas["Variant"];
export type VariantRevision = Schemas["VariantRevision"];
export type Vote = Schemas["Vote"];
export type Worker = Schemas["Worker"];
export type Workflow = Schemas["Workflow"];
export type WorkflowDetail = Schemas["WorkflowDetail"];
export type WorkflowVersion = Schemas["WorkflowVersion"];

// Enumerations.
export type TriggeredRunStatus = Schemas["TriggeredRunStatusEnum"];
export type Role = Schemas["RoleEnum"];
export type AlertKind = Schemas["AlertKindEnum"];
export type TokenRole = Schemas["TokenRoleEnum"];
export type RunStatus = Schemas["WorkflowRunStatusEnum"];
export type StepRunStatus = Schemas["StepRunStatusEnum"];
export type WorkerStatus = Schemas["WorkerStatusEnum"];
export type ScheduleStatus = Schemas["ScheduledRunStatusEnum"];
export type PullRequestState = Schemas["PrStateEnum"];
export type PullRequestProgress = Schemas["PullStateEnum"];
export type CronSource = Schemas["SourceEnum"];
export type OverrideChangeKind = Schemas["OverrideChangeKindEnum"];
export type PlaygroundRunKind = Schemas["PlaygroundRunKindEnum"];
export type GateMetric = Schemas["GateMetricEnum"];
export type RateLimitPeriod = Schemas["PeriodEnum"];
export type OverviewWindow = Schemas["OverviewWindowEnum"];

// Request bodies.
export type BackoffDefinitionBody = Schemas["BackoffDefinitionRequest"];
export type BulkTriggerBody = Schemas["BulkTriggerRequest"];
export type ColumnRequestBody = Schemas["ColumnRequestRequest"];
export type EditGitHubConnectionBody = Schemas["EditGitHubConnectionRequest"];
export type EditRetentionBody = Schemas["EditRetentionRequest"];
export type NewAlertRuleBody = Schemas["NewAlertRuleRequest"];
export type NewComparisonBody = Schemas["NewComparisonRequest"];
export type NewCronBody = Schemas["NewCronRequest"];
export type NewEventBody = Schemas["NewEventRequest"];
export type NewInvitationBody = Schemas["NewInvitationRequest"];
export type NewMemberBody = Schemas["NewMemberRequest"];
export type NewPlaygroundRunBody = Schemas["NewPlaygroundRunRequest"];
export type NewPullRequestBody = Schemas["NewPullRequestRequest"];
export type NewScheduleBody = Schemas["NewScheduleRequest"];
export type NewThresholdBody = Schemas["NewThresholdRequest"];
export type NewTokenBody = Schemas["NewTokenRequest"];
export type NewReviewBody = Schemas["NewReviewRequest"];
export type NewVariantBody = Schemas["NewVariantRequest"];
export type NewVoteBody = Schemas["NewVoteRequest"];
export type EditVariantBody = Schemas["EditVariantRequest"];
export type MemberRoleBody = Schemas["MemberRoleRequest"];
export type RescheduleBody = Schemas["RescheduleRequest"];
export type PushEventsBody = Schemas["PushEventsRequest"];
export type PutRateLimitBody = Schemas["PutRateLimitRequest"];
export type ReplayBody = Schemas["ReplayRequest"];
export type ReplayRunBody = Schemas["ReplayRunRequest"];
export type RestoreVariantBody = Schemas["RestoreVariantRequest"];
export type RowRequestBody = Schemas["RowRequestRequest"];
export type SignInBody = Schemas["SignInRequest"];
export type StepDefinitionBody = Schemas["StepDefinitionRequest"];
export type TriggerRunBody = Schemas["TriggerRunRequest"];
export type WorkflowDefinitionBody = Schemas["WorkflowDefinitionRequest"];
