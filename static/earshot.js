/* earshot widget (docs/widget.md explains every rule). ES2017, no dependencies, no build step; written
   dense to fit 6 KB gzipped. No eval, innerHTML, inline styles or style attributes: strict-CSP safe. */
(()=>{'use strict';
const w=window,d=document,loc=location,P='earshot:',DAY=864e5,old=w.earshot,now=Date.now;
if(old&&old.version)return;
const me=d.currentScript||[].find.call(d.scripts,e=>/\/static\/earshot\.js([?#]|$)/.test(e.src));
if(!me)return;
const base=me.src.replace(/\/static\/earshot\.js.*/,''),ver=(me.src.match(/\?[^#]*/)||[''])[0];

// built-in texts: one line per locale, in the order of KEYS
const KEYS='close next send req bad lo hi copy'.split(' '),TX={
en:'Close|Next|Send|Please answer this question.|Please check this answer.|Not at all likely|Extremely likely|Copy',
sl:'Zapri|Naprej|Pošlji|Prosimo, odgovorite na vprašanje.|Preverite ta odgovor.|Sploh ni verjetno|Zelo verjetno|Kopiraj',
ro:'Închide|Înainte|Trimite|Vă rugăm să răspundeți la întrebare.|Verificați acest răspuns.|Deloc probabil|Foarte probabil|Copiază',
uk:'Закрити|Далі|Надіслати|Будь ласка, дайте відповідь.|Перевірте цю відповідь.|Зовсім малоймовірно|Дуже ймовірно|Копіювати',
no:'Lukk|Neste|Send|Vennligst svar på spørsmålet.|Sjekk dette svaret.|Svært lite sannsynlig|Svært sannsynlig|Kopier'};
const lang=l=>TX[l=(l+'').slice(0,2).toLowerCase().replace('nb','no')]?l:'en';

// storage: JSON under earshot:*; ls is null when refused (then nothing shows by itself)
let ls;
try{ls=localStorage;ls.setItem(P,1);ls.removeItem(P)}catch(e){ls=null}
const get=k=>{try{return JSON.parse(ls.getItem(P+k))}catch(e){}},
 put=(k,v)=>{try{v?ls.setItem(P+k,JSON.stringify(v)):ls.removeItem(P+k)}catch(e){}},
 rnd=n=>[...crypto.getRandomValues(new Uint8Array(n))].map(b=>(b+256).toString(16).slice(1)).join(''),
 num=(v,def)=>typeof v=='number'&&v>=0?v:def;
let vis=get('visitor');
if(!/^v_\w{8,64}$/.test(vis))put('visitor',vis='v_'+rnd(8));
// sampling bucket 0..99: FNV-1a 32-bit hash of visitor id + form id
const bucket=s=>{let x=2166136261;for(const c of s)x=Math.imul(x^c.charCodeAt(0),16777619);return(x>>>0)%100};

// element builder: attributes (null/false skipped, text: textContent, on*: listener), then children
const h=(tag,a,...kids)=>{
 const e=d.createElement(tag);
 for(const k in a){const v=a[k];v==null||v===false||(k=='text'?e.textContent=v:/^on/.test(k)?e.addEventListener(k.slice(2),v):e.setAttribute(k,v===true?'':v))}
 e.append(...kids.filter(x=>x));return e};

// page rules on the URL path: * is any run of characters (including /); exclude wins
const pageOk=({pages:p={}})=>{
 const m=g=>RegExp('^'+String(g).split('*').map(s=>s.replace(/[\\^$.+?()[\]{}|]/g,'\\$&')).join('.*')+'$').test(loc.pathname),
  inc=p.include||[];
 return!(p.exclude||[]).some(m)&&(!inc[0]||inc.some(m))};
// may survey s show itself now: page, sample, recontact days, quiet period, nothing on screen
const ok=s=>{const t=s.trigger||{},n=now();
 return ls&&!cur&&pageOk(t)&&bucket(vis+s.id)<num(t.sample_percent,100)&&
  n-((get('done')||{})[s.id]||0)>=num(t.recontact_days,30)*DAY&&n-(get('last')||0)>=DAY};
const done=id=>{const o=get('done')||{};o[id]=now();put('done',o)};
// typing into a field of the page? (timed surveys then wait)
const typing=()=>d.activeElement.matches('input,textarea,select,[contenteditable]');

let attrs={},list,path,disarms=[],host,root,css,cur=null;

// arms survey s's trigger on this page; returns the disarm function
const arm=s=>{
 const t=s.trigger,ev=t.event,off=[],
  on=(o,type,f)=>{o.addEventListener(type,f,{passive:true});off.push(()=>o.removeEventListener(type,f))},
  later=(f,ms)=>{const i=setTimeout(f,ms);off.push(()=>clearTimeout(i))},
  stop=()=>off.splice(0).forEach(f=>f()),
  fire=()=>ok(s)&&(ev!='exit_intent'&&typing()?later(fire,2e3):(stop(),open(s)));
 if(ev=='page_view')later(fire,0);
 if(ev=='delay')later(fire,num(t.delay_seconds,15)*1e3);
 if(ev=='scroll')on(w,'scroll',()=>{const max=d.documentElement.scrollHeight-innerHeight;
  if(max>0&&scrollY/max*100>=num(t.scroll_percent,50))fire()});
 if(ev=='exit_intent')later(()=>{
  if(matchMedia('(hover:none) and (pointer:coarse)').matches){
   // touch: an upward scroll faster than 1 px/ms (over >= 100 ms) ending in the first screen,
   // or coming back after the page was hidden (tab or app switch)
   let y0=scrollY,t0=now(),gone;
   on(w,'scroll',()=>{const y=scrollY,t1=now();if(t1-t0<100)return;
    if(y<innerHeight&&(y0-y)/(t1-t0)>1)fire();y0=y;t0=t1});
   on(d,'visibilitychange',()=>d.hidden?gone=1:gone&&fire());
  }else on(d,'mouseout',e=>// desktop: the pointer leaves through the top edge, not a side
   !e.relatedTarget&&e.clientY<5&&e.clientX>=0&&e.clientX<=innerWidth&&fire());
 },1e3);
 return stop};

// fetches the surveys for this URL and arms them; again whenever the path changes (SPA)
const route=()=>{
 if(loc.pathname==path)return;
 const p=path=loc.pathname;
 disarms.splice(0).forEach(f=>f());
 list=fetch(base+'/api/v1/surveys?page='+encodeURIComponent(loc.href),{credentials:'omit'})
  .then(r=>r.json()).then(j=>j.surveys,()=>[]);
 list.then(a=>{if(p!=path)return;
  a.forEach(s=>{const ev=(s.trigger||{}).event;ev&&ev!='manual'&&ok(s)&&disarms.push(arm(s))});
  disarms[0]&&prep()})};

// host element, open shadow root, stylesheet; resolves truthy once styled
const prep=()=>(d.body?Promise.resolve():new Promise(r=>d.addEventListener('DOMContentLoaded',r))).then(()=>{
 if(!host){
  root=(host=h('div',{id:'earshot-widget'})).attachShadow({mode:'open'});
  const l=h('link',{rel:'stylesheet',href:base+'/static/earshot.css'+ver});
  css=new Promise(r=>{l.onload=()=>r(1);l.onerror=()=>r(0)});
  root.append(l)}
 host.isConnected||d.body.append(host);
 return css});

// ---- the dialog. cur holds the survey on screen: s survey, t texts, L locale, hist question ids on
// the path, ans answers, key idempotency key, body/err/ctl elements, sent, over (thanked)
const open=s=>{
 if(cur)return;
 const st=cur={s};
 prep().then(styled=>{
  if(cur!=st)return;
  if(!styled)return cur=null;
  const L=lang(attrs.locale||me.dataset.locale||s.locale),t={};
  TX[L].split('|').forEach((x,i)=>t[KEYS[i]]=x);
  Object.assign(st,{qs:s.questions||[],t,L,hist:[],ans:{},key:rnd(16),back:d.activeElement,
   start:new Date().toISOString().replace(/\.\d+/,''),page:loc.href,body:h('div')});
  root.append(st.card=h('div',{class:'card',role:'dialog','aria-labelledby':'es-title',lang:s.locale||L,onkeydown:keys},
   h('div',{class:'head'},h('h2',{id:'es-title',text:s.title}),
    h('button',{type:'button',class:'x','aria-label':t.close,text:'×',onclick:()=>close(1)})),
   st.body));
  put('last',now());
  go((st.qs[0]||{}).id)})};

// the question after q answered v (undefined: unanswered): first matching next: rule, else the next in the file
const nextId=(q,v,qs)=>{
 for(const r of q.next||[])if(!r.if||hit(r.if,v))return r.goto;
 return(qs[qs.indexOf(q)+1]||{id:'end'}).id};
// one if: condition; with multi_choice, equals and in match any chosen option
const hit=(c,v)=>{const has=v!==undefined&&v+''!=='',eq=x=>has&&[].concat(v).some(y=>y+''==x+'');
 return'answered'in c?has==!!c.answered:'equals'in c?eq(c.equals):'in'in c?[].concat(c.in).some(eq):
  typeof v=='number'&&('lte'in c?v<=c.lte:v>=c.gte)};
const find=(st,id)=>st.qs.find(q=>q.id==id);
// shows question id; finishes at "end", an unknown id or a loop
const go=id=>{const st=cur,q=find(st,id);
 if(!q||st.hist.includes(id))return finish();
 st.hist.push(id);render(q)};

// why answer v to q is refused (a text key): a malformed email or number; the server checks the rest
const bad=(q,v)=>(q.type=='email'&&!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)||v!==v)&&'bad';
// records answer val to q and moves on, or says why not
const step=(q,val)=>{const st=cur;
 if(!st||st.sent||st.hist[st.hist.length-1]!=q.id)return;
 const e=val===undefined||val===false?q.required&&'req':bad(q,val);
 if(e)return fail(e);
 val===undefined?delete st.ans[q.id]:st.ans[q.id]=val;
 const n=nextId(q,val,st.qs);
 n=='end'?finish():go(n)};
// shows an error (a text key or the server's message) on the current step
const fail=e=>{cur.err.textContent=cur.t[e]||e;cur.ctl.setAttribute('aria-invalid','true');cur.ctl.focus()};

// draws question q as the current step
const render=q=>{
 const st=cur,t=st.t,v=st.ans[q.id],ty=q.type,
  why=q.why&&h('p',{class:'why',id:'es-why',text:q.why}),desc=(why?'es-why ':'')+'es-err',
  legend=h('legend',{text:q.label});
 let main,read,first;
 if(/^(nps|rating|single_choice)$/.test(ty)){
  // a row of buttons: one click answers
  const vals=ty=='single_choice'?q.options:[...Array(ty=='nps'?11:q.scale||5).keys()].map(i=>ty=='nps'?i:i+1),
   btns=vals.map(x=>h('button',{type:'button','aria-pressed':x===v,text:x,onclick:()=>step(q,x)}));
  first=btns[vals.indexOf(v)]||btns[0];
  main=h('fieldset',{'aria-describedby':desc},legend,h('div',{class:'opts '+ty},...btns),
   ty=='nps'&&h('div',{class:'ends','aria-hidden':'true'},h('span',{text:'0: '+t.lo}),h('span',{text:'10: '+t.hi})));
  read=()=>v;
 }else if(/^(multi_choice|consent)$/.test(ty)){
  const one=ty=='consent',boxes=(one?[q.label]:q.options).map(o=>h('input',{type:'checkbox',value:o,
    checked:one?v:[].concat(v).includes(o),'aria-describedby':one&&desc})),
   rows=boxes.map(b=>h('label',{class:'check'},b,h('span',{text:b.value})));
  main=one?h('div',{},...rows):h('fieldset',{'aria-describedby':desc},legend,...rows);
  read=(a=boxes.filter(b=>b.checked).map(b=>b.value))=>one?!!a[0]:a[0]?a:undefined;
  first=boxes[0];
 }else{
  const long=ty=='long_text',text=long||ty=='text';
  first=h(long?'textarea':'input',{id:'es-in',rows:long&&4,
   type:!long&&({email:'email',phone:'tel',date:'date',number:'number'}[ty]||'text'),
   autocomplete:{email:'email',phone:'tel'}[ty]||'off',step:ty=='number'&&'any',maxlength:text&&(q.max_length||2e3),
   min:q.min,max:q.max,placeholder:q.hint,'aria-required':!!q.required,'aria-describedby':desc});
  if(v!==undefined)first.value=v;
  main=h('div',{},h('label',{for:'es-in',text:q.label}),first);
  read=(s=first.value)=>first.validity.badInput?NaN:!s.trim()?undefined:ty=='number'?+s:text?s:s.trim();
 }
 // progress: questions so far plus those the answers known now lead to
 let n=st.hist.length,m=n,id=nextId(q,v,st.qs),x,g=0;
 while((x=find(st,id))&&g++<99){m++;id=nextId(x,st.ans[x.id],st.qs)}
 st.err=h('p',{class:'err',id:'es-err',role:'alert'});
 st.ctl=first;
 st.body.textContent='';
 st.body.append(h('form',{novalidate:true,onsubmit:e=>{e.preventDefault();step(q,read())}},
  m>1&&h('p',{class:'prog',text:n+' / '+m}),main,why,st.err,
  h('div',{class:'nav'},h('button',{type:'submit',text:m>n?t.next:t.send}))));
 first.focus()};

const keys=e=>e.key=='Escape'&&(e.stopPropagation(),close(1));

// sends the whole answer; then thanks, or back to the field the server refused
const finish=()=>{const st=cur;
 st.sent=1;done(st.s.id);
 submit(st).then(({s,b})=>{
  if(cur!=st)return;
  if(s==422){
   st.sent=0;st.key=rnd(16);// a refused key was never accepted
   const f=b.fields||{},id=st.hist.find(x=>f[x]);
   if(id){let x;while((x=st.hist.pop())!=id)delete st.ans[x];go(id)}
   fail(id?f[id]+'':b.message||'bad');
  }else s<300||again(s)?thanks(b):fail(b.message||'bad')})};

// the thank-you step: thank_you, then any offer codes with a copy button
const thanks=b=>{const st=cur,t=st.t,msg=h('p',{class:'thanks',tabindex:-1,text:b.thank_you||st.s.thank_you});
 st.over=1;st.body.textContent='';
 st.body.append(msg,...[].concat(b.offers||[]).filter(o=>o&&o.code).map((o,i)=>{
  const code=h('input',{readonly:true,value:o.code,'aria-labelledby':'es-o'+i}),said=h('span',{'aria-live':'polite'});
  return h('div',{class:'offer'},h('p',{id:'es-o'+i,text:o.text||''}),
   h('div',{},code,h('button',{type:'button',text:t.copy,onclick:()=>
    navigator.clipboard.writeText(o.code).then(()=>said.textContent='✓',()=>code.select())})),said)}));
 msg.focus()};

// closes; by the visitor (Close, Escape) it counts as dismissed. Answers given so far go out as a
// partial response. Focus returns where it was.
const close=byVisitor=>{const st=cur;
 cur=null;
 if(!st||!st.card)return;
 st.card.remove();
 const some=!st.sent&&!st.over&&Object.keys(st.ans)[0];
 if(byVisitor||some)done(st.s.id);
 if(some)submit(st,1);
 st.back&&st.back!=d.body&&st.back.isConnected&&st.back.focus()};

// ---- delivery: each answer waits in earshot:queue until the server accepted or refused it
const again=s=>!s||s==408||s==429||s>499,
 queue=f=>{const q=f(get('queue')||[]);put('queue',q[0]&&q);return q},
 submit=(st,partial)=>{
  const meta=Object.assign({},attrs,{page:st.page,visitor:vis,locale:st.L},partial&&{partial:true}),
   j={u:base+'/api/v1/forms/'+encodeURIComponent(st.s.id)+'/responses',k:st.key,n:0,t:now(),
    b:JSON.stringify({answers:st.ans,meta,started_at:st.start,idempotency_key:st.key})};
  queue(q=>q.filter(x=>x.k!=j.k).concat(j).slice(-50));
  return send(j)},
 fly={},
 // POSTs one answer as text/plain (no CORS preflight); resolves {s: status (0: no network), b: body}
 send=j=>fly[j.k]||(fly[j.k]=fetch(j.u,{method:'POST',body:j.b,credentials:'omit',keepalive:true,
   headers:{'Content-Type':'text/plain;charset=UTF-8'}})
  .then(r=>r.json().catch(()=>0).then(b=>({s:r.status,b})),()=>({s:0}))
  .then(res=>{
   delete fly[j.k];
   const b=res.b=Object(res.b),retry=again(res.s);
   // retry with exponential backoff (2 s doubling to 10 min, jittered) or Retry-After
   queue(q=>q.filter(x=>x.k!=j.k||retry&&Object.assign(x,{n:x.n+1,
    at:now()+Math.max((b.retry_after||0)*1e3,Math.min(2e3*2**x.n,6e5)*(.5+Math.random()))})));
   plan();return res}));
let timer;
const plan=(q=get('queue'))=>{clearTimeout(timer);q&&(timer=setTimeout(flush,Math.max(1e3,Math.min(...q.map(x=>x.at||0))-now())))},
 // sends the queued answers that are due (all when all is true); forgets any a week old
 flush=all=>{const t=now();
  queue(q=>q.filter(x=>t-x.t<7*DAY)).forEach(x=>(all===true||!(x.at>t))&&send(x));plan()};

// ---- public API; calls queued by a stub before load (earshot.q) run in order
const api=w.earshot={version:1,
 show:id=>list.then(a=>{const s=a.find(x=>x.id==id);s&&open(s)}),
 identify:o=>Object.assign(attrs,o),
 hide:()=>close(),
 q:{push:c=>run(c)}},
 run=([m,...args])=>api[m]&&api[m](...args);
['pushState','replaceState'].forEach(m=>{const f=history[m];
 history[m]=function(){const r=f.apply(this,arguments);setTimeout(route);return r}});
addEventListener('popstate',route);
addEventListener('online',()=>flush(true));
addEventListener('pagehide',()=>close());
d.addEventListener('click',e=>{const el=e.target.closest&&e.target.closest('[data-earshot-show]');
 el&&(e.preventDefault(),api.show(el.getAttribute('data-earshot-show')))});
route();flush(true);
[].concat(old&&old.q||[]).forEach(run);
})();
