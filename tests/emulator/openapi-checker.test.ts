/** The OpenAPI checker on its own: what it accepts and refuses, for requests and replies. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkRequest, checkResponse, defaultSpecDir, findOperation, SPEC_FILES } from '../../emulator/openapi';
import { FlowStore, studioFlowRoutes } from '../../emulator/studio-flows';
import { SyncDocumentStore, syncDocumentRoutes } from '../../emulator/sync-documents';
import { voiceRoutes } from '../../emulator/voice-routes';
import { VoiceStore } from '../../emulator/voice-store';

const AC = 'AC' + '0'.repeat(32);
const CF = 'CF' + 'a'.repeat(32);
const CA = 'CA' + 'b'.repeat(32);
const conferencePath = `/api/2010-04-01/Accounts/${AC}/Conferences/${CF}.json`;

describe('OpenAPI checker: requests', () => {
  it('finds operations by method and path, preferring literal segments over parameters', () => {
    expect(findOperation('POST', '/studio/v2/Flows/Validate')?.operationId).toBe('UpdateFlowValidate');
    expect(findOperation('POST', `/studio/v2/Flows/FW${'1'.repeat(32)}`)?.operationId).toBe('UpdateFlow');
    expect(findOperation('GET', 'https://sync.twilio.com/v1/Services/default/Documents/job_1')).toMatchObject({
      domain: 'sync',
      operationId: 'FetchDocument',
      pathParams: { ServiceSid: 'default', Sid: 'job_1' },
    });
    expect(findOperation('GET', conferencePath)?.pathParams).toEqual({ AccountSid: AC, Sid: CF });
  });

  it('accepts what the helper library sends', () => {
    expect(checkRequest({ method: 'POST', path: conferencePath, form: { Status: 'completed' } })).toEqual([]);
    expect(
      checkRequest({
        method: 'POST',
        path: '/sync/v1/Services/default/Documents/job_1',
        form: { Data: '{"status":"PENDING"}', Ttl: '3600' },
        headers: { 'If-Match': '3' },
      }),
    ).toEqual([]);
    expect(
      checkRequest({
        method: 'GET',
        path: `https://api.twilio.com/2010-04-01/Accounts/${AC}/Conferences.json?FriendlyName=room&Status=in-progress&PageSize=50`,
        query: { 'DateCreated>': '2026-11-01' },
      }),
    ).toEqual([]);
  });

  it('refuses unknown form parameters, bad enum values and missing required parameters', () => {
    expect(checkRequest({ method: 'POST', path: conferencePath, form: { Status: 'bogus', Reason: 'x' } })).toEqual([
      'UpdateConference: form Status must be one of [completed]; got "bogus"',
      'UpdateConference: unknown form parameter "Reason"',
    ]);
    expect(checkRequest({ method: 'POST', path: '/studio/v2/Flows', form: { Status: 'draft' } })).toEqual([
      'CreateFlow: missing required form parameter "FriendlyName"',
      'CreateFlow: missing required form parameter "Definition"',
    ]);
  });

  it('checks types: integers, booleans, JSON objects, repeated array values, formats', () => {
    const documents = '/sync/v1/Services/default/Documents';
    expect(checkRequest({ method: 'POST', path: documents, form: { Ttl: '1.5' } })).toEqual([
      'CreateDocument: form Ttl must be an integer; got "1.5"',
    ]);
    expect(checkRequest({ method: 'POST', path: documents, form: { Data: 'not json' } })[0]).toMatch(
      /form Data must be JSON text/,
    );
    expect(checkRequest({ method: 'POST', path: documents, form: { Data: '"text"' } })).toEqual([
      'CreateDocument: form Data must be object; got "\\"text\\""',
    ]);
    const participants = `/api/2010-04-01/Accounts/${AC}/Conferences/${CF}/Participants.json`;
    const base = { From: '+15005550006', To: '+15005550001' };
    expect(
      checkRequest({ method: 'POST', path: participants, form: { ...base, StatusCallbackEvent: ['join', 'leave'] } }),
    ).toEqual([]);
    expect(checkRequest({ method: 'POST', path: participants, form: { ...base, Muted: 'yes' } })).toEqual([
      'CreateParticipant: form Muted must be true or false; got "yes"',
    ]);
    expect(checkRequest({ method: 'POST', path: participants, form: { ...base, Timeout: ['1', '2'] } })).toEqual([
      'CreateParticipant: form Timeout must be given once, got 2 values',
    ]);
    expect(checkRequest({ method: 'POST', path: participants, form: { ...base, WaitUrl: 'not a url' } })[0]).toMatch(
      /form WaitUrl must match format "uri"/,
    );
    const call = `/api/2010-04-01/Accounts/${AC}/Calls/${CA}.json`;
    expect(checkRequest({ method: 'POST', path: call, form: { Twiml: '<Response><Hangup/></Response>' } })).toEqual([]);
    expect(checkRequest({ method: 'POST', path: call, form: { Twiml: 'hang up' } })[0]).toMatch(
      /form Twiml must match format "twiml"/,
    );
  });

  it('checks path and query parameters and the headers Twilio gives meaning to', () => {
    expect(checkRequest({ method: 'GET', path: `/api/2010-04-01/Accounts/AC1/Conferences/${CF}.json` })[0]).toMatch(
      /FetchConference: path AccountSid must NOT have fewer than 34 characters/,
    );
    expect(
      checkRequest({
        method: 'GET',
        path: `/api/2010-04-01/Accounts/${AC}/Conferences.json`,
        query: { Status: 'done', Limit: '5' },
      }),
    ).toEqual([
      'ListConference: query Status must be one of [init, in-progress, completed]; got "done"',
      'ListConference: unknown query parameter "Limit"',
    ]);
    expect(
      checkRequest({
        method: 'GET',
        path: `/api/2010-04-01/Accounts/${AC}/Conferences.json`,
        query: { PageSize: '5000' },
      }),
    ).toEqual(['ListConference: query PageSize must be <= 1000; got "5000"']);
    expect(
      checkRequest({
        method: 'POST',
        path: '/sync/v1/Services/default/Documents',
        form: { UniqueName: 'x' },
        headers: { 'if-match': '1' },
      }),
    ).toEqual(['CreateDocument: header "if-match" is not accepted by this operation']);
    expect(
      checkRequest({ method: 'GET', path: '/sync/v1/Services/default/Documents/x', form: { Data: '{}' } }),
    ).toEqual(['FetchDocument: takes no body parameters, got "Data"']);
  });

  it('refuses paths and methods that are not operations', () => {
    expect(checkRequest({ method: 'GET', path: '/sync/v1/Services/default/Docs' })).toEqual([
      'no operation in the sync spec matches /v1/Services/default/Docs',
    ]);
    expect(checkRequest({ method: 'PUT', path: conferencePath })[0]).toMatch(/^PUT is not an operation of/);
    expect(checkRequest({ method: 'GET', path: '/video/v1/Rooms' })).toEqual([
      'not a Twilio API path: /video/v1/Rooms',
    ]);
  });
});

describe('OpenAPI checker: replies', () => {
  const conference = {
    account_sid: AC,
    api_version: '2010-04-01',
    date_created: 'Sat, 21 Nov 2026 12:00:00 +0000',
    date_updated: 'Sat, 21 Nov 2026 12:00:00 +0000',
    friendly_name: 'room',
    region: 'us1',
    sid: CF,
    status: 'in-progress',
    uri: `/2010-04-01/Accounts/${AC}/Conferences/${CF}.json`,
    subresource_uris: { participants: `/2010-04-01/Accounts/${AC}/Conferences/${CF}/Participants.json` },
    reason_conference_ended: null,
    call_sid_ending_conference: null,
  };

  it('accepts a correct reply, including null for an enum the spec references', () => {
    expect(checkResponse({ method: 'GET', path: conferencePath, status: 200, body: conference })).toEqual([]);
  });

  it('catches invented fields, wrong types, bad formats and bad enum values', () => {
    expect(
      checkResponse({
        method: 'GET',
        path: conferencePath,
        status: 200,
        body: {
          ...conference,
          participants_count: 1,
          status: 'active',
          date_created: '2026-11-21T12:00:00Z',
          region: 7,
        },
      }),
    ).toEqual([
      'FetchConference reply 200: body has unknown property "participants_count"',
      'FetchConference reply 200: body/date_created must match format "date-time-rfc-2822"',
      'FetchConference reply 200: body/region must be string,null',
      'FetchConference reply 200: body/status must be one of [init, in-progress, completed, null]',
    ]);
    expect(
      checkResponse({
        method: 'GET',
        path: conferencePath,
        status: 200,
        body: { ...conference, subresource_uris: { participants: 'no uri' } },
      }),
    ).toEqual(['FetchConference reply 200: body/subresource_uris/participants must match format "uri"']);
  });

  it('checks status codes, empty bodies and the Twilio error shape', () => {
    const document = '/sync/v1/Services/default/Documents/x';
    expect(checkResponse({ method: 'DELETE', path: document, status: 204 })).toEqual([]);
    expect(checkResponse({ method: 'DELETE', path: document, status: 204, body: {} })).toEqual([
      'DeleteDocument reply 204: must have an empty body',
    ]);
    expect(checkResponse({ method: 'GET', path: document, status: 201, body: {} })[0]).toMatch(
      /status 201 is not documented/,
    );
    const error = {
      code: 54100,
      message: 'Document not found',
      more_info: 'https://www.twilio.com/docs/errors/54100',
      status: 404,
    };
    expect(checkResponse({ method: 'GET', path: document, status: 404, body: error })).toEqual([]);
    expect(
      checkResponse({ method: 'GET', path: document, status: 404, body: { code: '54100', message: 'x' } }),
    ).toEqual([
      "FetchDocument reply 404: body must have required property 'more_info'",
      "FetchDocument reply 404: body must have required property 'status'",
      'FetchDocument reply 404: body/code must be integer',
    ]);
  });

  it("passes the specs' own examples for every operation the emulator implements", () => {
    const clock = () => Date.now();
    const observer = { conferenceEvent: () => undefined, callReleased: () => undefined };
    const implemented = new Set(
      Object.keys({
        ...syncDocumentRoutes(new SyncDocumentStore(clock)),
        ...voiceRoutes(new VoiceStore(clock, observer), clock),
        ...studioFlowRoutes(new FlowStore(clock)),
      }),
    );
    let checked = 0;
    for (const [domain, file] of Object.entries(SPEC_FILES)) {
      const spec = JSON.parse(fs.readFileSync(path.join(defaultSpecDir(), file), 'utf8')) as {
        paths: Record<
          string,
          Record<
            string,
            {
              operationId?: string;
              responses?: Record<
                string,
                { content?: Record<string, { examples?: Record<string, { value: unknown }> }> }
              >;
            }
          >
        >;
      };
      for (const [template, item] of Object.entries(spec.paths)) {
        for (const method of ['get', 'post', 'delete']) {
          const op = item[method];
          if (!op?.operationId || !implemented.has(`${domain}:${op.operationId}`)) continue;
          for (const [status, reply] of Object.entries(op.responses ?? {})) {
            for (const example of Object.values(reply.content?.['application/json']?.examples ?? {})) {
              const problems = checkResponse({
                method,
                path: `/${domain}${template.replace(/\{[^}]+\}/g, 'x')}`,
                status: Number(status),
                body: example.value,
              });
              // The Call examples carry an `annotation` field that the Call schema does not list.
              expect(problems.filter((p) => !p.includes('unknown property "annotation"'))).toEqual([]);
              checked += 1;
            }
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
});
